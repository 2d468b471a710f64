import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransferHost } from '../../../src/client/transfers/transfer-host.js';
import type { UploadRecord } from '../../../src/client/transfers/transfer-record.js';
import { Uploads } from '../../../src/client/transfers/uploads.js';
import { fakeTransferHost } from '../../helpers/transfer-fakes.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const FILE = '0123456789abcdef0123456789abcdef';

/** An upload under way (announced, never ready to send: only its state matters). */
async function uploading(): Promise<{
  uploads: Uploads;
  record: UploadRecord;
  sent: Array<{ type: string }>;
  progressed: () => number;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-fstate-'));
  dirs.push(dir);
  const path = join(dir, 'f.bin');
  writeFileSync(path, Buffer.alloc(100_000, 1));
  const sent: Array<{ type: string }> = [];
  let progress = 0;
  const host: TransferHost = fakeTransferHost({
    offerEarly: () => false,
    send: (frame) => {
      sent.push(frame as { type: string });
      return true;
    },
    progress: (_r, phase) => {
      if (phase === 'progress') progress++;
    },
  });
  const uploads = new Uploads(host);
  const record = (await uploads.send('bob', path)) as UploadRecord;
  await uploads.digestOf(record);
  uploads.announced(record, FILE, 'cap');
  return { uploads, record, sent, progressed: () => progress };
}

// How each test sees whether an fstate restarted the upload, at once: an fstate saying the
// server has every chunk ends the run there and then (the upload goes on to its offer), so
// a later `fack` finds no run and reports no progress; an ignored fstate leaves the run, and
// the `fack` reports progress.
describe('fstate from a hostile server', () => {
  it('restarts nothing when this client did not ask (no fstat sent)', async () => {
    const { uploads, record, progressed } = await uploading();
    uploads.resumeFrom(record, record.chunks);
    const before = progressed();
    uploads.acked(record, 1);
    expect(progressed()).toBe(before + 1); // the run is still there
    uploads.disconnected();
  });

  it('restarts once in answer to our fstat after a reconnect, and not again', async () => {
    const { uploads, record, sent, progressed } = await uploading();
    uploads.disconnected();
    await uploads.resumeAll([record]);
    expect(sent.filter((f) => f.type === 'fstat')).toHaveLength(1);
    uploads.resumeFrom(record, 0); // the answer: go on from chunk 0
    const before = progressed();
    uploads.acked(record, 1);
    expect(progressed()).toBe(before + 1); // the resumed run
    uploads.resumeFrom(record, record.chunks); // the same answer again, unasked
    uploads.acked(record, 2);
    expect(progressed()).toBe(before + 2); // still that run: the repeat was ignored
    uploads.disconnected();
  });

  it('forgets an unanswered fstat when the connection drops', async () => {
    const { uploads, record, progressed } = await uploading();
    uploads.disconnected();
    await uploads.resumeAll([record]);
    uploads.disconnected(); // dropped again before the answer
    uploads.resumeFrom(record, 0); // (an fstate of the old connection's question)
    const before = progressed();
    uploads.acked(record, 1);
    expect(progressed()).toBe(before); // no run: nothing restarted it
  });
});
