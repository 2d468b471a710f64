import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventSink } from '../../../src/client/events.js';
import {
  CONTROL_RETRY_MS,
  CONTROL_TRIES,
  type ControlFrame,
  ControlResend,
} from '../../../src/client/transfers/control-resend.js';
import { TransferManager } from '../../../src/client/transfers/transfer-manager.js';
import type { UploadRecord } from '../../../src/client/transfers/transfer-record.js';
import { MemoryTransferStore } from '../../../src/client/transfers/transfer-store.js';
import { until } from '../../helpers/until.js';
import { manualTimers } from '../client/fakes.js';

const FILE = 'ab'.repeat(16);
const fstat: ControlFrame = { type: 'fstat', file: FILE };

describe('ControlResend: control lines dropped by the rate limit go again', () => {
  it('sends a refused line again later, backing off, and gives up after CONTROL_TRIES', () => {
    const clock = manualTimers(1000);
    const sent: ControlFrame[] = [];
    const resend = new ControlResend((f) => sent.push(f), clock.timers, clock.now);
    resend.sent(fstat);
    for (let n = 1; n <= CONTROL_TRIES; n++) {
      expect(resend.refused(FILE)).toBe('again');
      expect(resend.refused(FILE)).toBe('again'); // (a second refusal before the resend: one resend)
      clock.advance(CONTROL_RETRY_MS * n - 1);
      expect(sent).toHaveLength(n - 1);
      clock.advance(1);
      expect(sent).toEqual(Array(n).fill(fstat));
    }
    expect(resend.refused(FILE)).toBe('gave-up');
    expect(resend.refused(FILE)).toBeUndefined(); // forgotten
  });

  it('forgets a line once answered, on clear(), and what it never sent', () => {
    const clock = manualTimers(1000);
    const sent: ControlFrame[] = [];
    const resend = new ControlResend((f) => sent.push(f), clock.timers, clock.now);
    expect(resend.refused(FILE)).toBeUndefined();
    resend.sent(fstat);
    resend.answered(FILE);
    expect(resend.refused(FILE)).toBeUndefined();
    resend.sent(fstat);
    expect(resend.refused(FILE)).toBe('again');
    resend.clear(); // the connection dropped: the pending resend is cancelled
    clock.advance(60_000);
    expect(sent).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A manager with one upload under way (its file on disk), welcomed by a files server. */
function managerWithUpload() {
  const dir = mkdtempSync(join(tmpdir(), 'sc-control-'));
  dirs.push(dir);
  const path = join(dir, 'f.bin');
  writeFileSync(path, Buffer.alloc(1000, 7));
  const info = statSync(path);
  const record: UploadRecord = {
    dir: 'up',
    id: 'cd'.repeat(16),
    path,
    size: info.size,
    mtimeMs: info.mtimeMs,
    target: 'bob',
    name: 'f.bin',
    mime: 'application/octet-stream',
    chunks: 1,
    key: 'k',
    digest: 'd',
    state: 'uploading',
    created: 0,
    file: FILE,
    cap: 'cap',
  };
  const store = new MemoryTransferStore();
  store.save(record);
  const clock = manualTimers(Date.UTC(2026, 10, 30));
  const sent: Array<{ type: string }> = [];
  const manager = new TransferManager({
    persistence: store,
    downloadDir: dir,
    link: {
      send: (frame) => {
        sent.push(frame as { type: string });
        return true;
      },
      ready: true,
      offers: () => true,
    },
    sendOffer: async () => true,
    sink: eventSink(() => undefined, clock.now),
    now: clock.now,
    timers: clock.timers,
  });
  return { manager, store, record, clock, sent };
}

describe('a resumed upload whose fstat the server drops under its rate limit', () => {
  it('asks again instead of waiting for good, and fails clearly after CONTROL_TRIES', async () => {
    const { manager, store, clock, sent } = managerWithUpload();
    manager.welcomed();
    const fstats = () => sent.filter((f) => f.type === 'fstat').length;
    expect(await until(() => fstats() === 1, 5000)).toBe(true); // (after stat of the file)
    for (let n = 1; n <= CONTROL_TRIES; n++) {
      expect(manager.refused(FILE, 'E_RATE_LIMITED', 'slow down')).toBe(true);
      clock.advance(CONTROL_RETRY_MS * n);
      expect(fstats()).toBe(1 + n);
      expect(store.records.get('cd'.repeat(16))?.state).toBe('uploading');
    }
    expect(manager.refused(FILE, 'E_RATE_LIMITED', 'slow down')).toBe(true);
    const failed = store.records.get('cd'.repeat(16));
    expect(failed?.state).toBe('failed');
    expect(failed?.reason).toMatch(/rate limited/);
  });

  it('goes on from the answer to a resent fstat', async () => {
    const { manager, store, clock, sent } = managerWithUpload();
    manager.welcomed();
    expect(await until(() => sent.some((f) => f.type === 'fstat'), 5000)).toBe(true);
    manager.refused(FILE, 'E_RATE_LIMITED', 'slow down');
    clock.advance(CONTROL_RETRY_MS);
    manager.state({ type: 'fstate', file: FILE, have: 1, chunks: 1, complete: true });
    clock.advance(60_000);
    expect(sent.filter((f) => f.type === 'fstat')).toHaveLength(2); // answered: no more
    // (a late refusal of that line fails nothing)
    expect(manager.refused(FILE, 'E_RATE_LIMITED', 'slow down')).toBe(true);
    expect(store.records.get('cd'.repeat(16))?.state).not.toBe('failed');
  });
});

describe('an announce (fnew) the server drops under its rate limit', () => {
  it('goes again instead of failing the upload, until the fok', async () => {
    const { manager, store, clock, sent } = managerWithUpload();
    const path = join(dirs.at(-1) as string, 'g.bin');
    writeFileSync(path, Buffer.alloc(5000, 3));
    expect(await manager.send('bob', path)).toBe(true);
    const fnews = () => sent.filter((f) => f.type === 'fnew') as unknown as Array<{ id: string }>;
    expect(fnews()).toHaveLength(1);
    const id = fnews()[0]!.id;
    const record = () =>
      [...store.records.values()].find((r) => r.dir === 'up' && r.name === 'g.bin');
    expect(manager.refused(id, 'E_RATE_LIMITED', 'slow down')).toBe(true);
    expect(record()?.state).toBe('announcing'); // (before: failed with "slow down")
    clock.advance(CONTROL_RETRY_MS);
    expect(fnews()).toHaveLength(2);
    expect(fnews()[1]).toEqual(fnews()[0]); // the same announce
    manager.ok({ type: 'fok', id, file: 'ef'.repeat(16), cap: 'Y2Fw' });
    expect(record()?.state).toBe('uploading');
    // a server that names the answered announce again (lying) gets no resend and fails nothing
    expect(manager.refused(id, 'E_RATE_LIMITED', 'slow down')).toBe(true);
    clock.advance(60_000);
    expect(fnews()).toHaveLength(2);
    expect(record()?.state).toBe('uploading');
    manager.disconnected(); // (closes the upload's file)
  });
});
