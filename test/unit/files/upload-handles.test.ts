import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { UploadRecord } from '../../../src/client/transfers/transfer-record.js';
import { Uploads } from '../../../src/client/transfers/uploads.js';
import { fakeTransferHost, openOn } from '../../helpers/transfer-fakes.js';
import { until } from '../../helpers/until.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// (never ready: nothing is sent, only the file handle matters here)
const host = fakeTransferHost({ offerEarly: () => false });

describe.runIf(process.platform === 'linux')(
  'an upload stopped while its file is being opened',
  () => {
    for (const stop of ['cancel', 'fail', 'disconnected'] as const) {
      it(`closes the file (${stop} before the open finished)`, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'sc-handles-'));
        dirs.push(dir);
        const path = join(dir, 'f.bin');
        writeFileSync(path, Buffer.alloc(100_000, 1));
        const uploads = new Uploads(host);
        const record = (await uploads.send('bob', path)) as UploadRecord;
        await uploads.digestOf(record); // (the hashing thread's own descriptor is closed)
        expect(openOn(path)).toBe(0);
        uploads.announced(record, '0123456789abcdef0123456789abcdef', 'cap'); // starts the open
        if (stop === 'cancel') uploads.cancel(record);
        else if (stop === 'fail') uploads.fail(record, 'test');
        else uploads.disconnected();
        // the open finishes after the stop: its descriptor must not stay open until a GC
        expect(await until(() => openOn(path) === 0, 2000)).toBe(true);
      });
    }
  },
);

describe.runIf(process.platform === 'linux')('an upload started again while active', () => {
  it('closes the file of the run it replaces (a welcome again, then the fstate it asked for)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-handles-'));
    dirs.push(dir);
    const path = join(dir, 'f.bin');
    writeFileSync(path, Buffer.alloc(100_000, 1));
    const uploads = new Uploads(host);
    const record = (await uploads.send('bob', path)) as UploadRecord;
    await uploads.digestOf(record);
    uploads.announced(record, '0123456789abcdef0123456789abcdef', 'cap');
    expect(await until(() => openOn(path) === 1, 2000)).toBe(true);
    for (let i = 0; i < 3; i++) {
      // (resumed without a drop first: the run it replaces must still close its file)
      await uploads.resumeAll([record]);
      uploads.resumeFrom(record, 0);
      // (each run opens the file anew: wait until this one has)
      await until(() => openOn(path) >= 1, 2000);
      await new Promise((r) => setImmediate(r));
    }
    // one upload, one descriptor: the replaced runs closed theirs
    expect(await until(() => openOn(path) === 1, 2000)).toBe(true);
    uploads.disconnected();
    expect(await until(() => openOn(path) === 0, 2000)).toBe(true);
  });
});
