import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Clock, TimerHandle } from '../../src/server/clock.js';
import { FILE_HOLD_MS } from '../../src/server/files/file-service.js';
import { ALL_CAPS, loginV2 } from '../helpers/hostile.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity } from '../helpers/v2-hello.js';

const CAPS = [...ALL_CAPS, 'files'];
const CHUNK = 32 * 1024 + 16;

/** A server clock whose timeouts run only when the test moves it (intervals never run). */
function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  let next = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      due.set(id, { at: now + ms, fn });
      return id as unknown as TimerHandle;
    },
    clearTimeout: (handle) => {
      due.delete(handle as unknown as number);
    },
    setInterval: () => -1 as unknown as TimerHandle,
    clearInterval: () => undefined,
  };
  return {
    clock,
    advance(ms: number) {
      now += ms;
      for (const [id, timer] of [...due].sort((a, b) => a[1].at - b[1].at))
        if (timer.at <= now && due.delete(id)) timer.fn();
    },
  };
}

/**
 * Downloading alongside the upload: an `fget` for chunks not uploaded yet is held until
 * they are (bounded by FILE_HOLD_MS), so a recipient can fetch while the sender uploads.
 */
describe('fget held for chunks still being uploaded (real TLS)', () => {
  let t: TestServer;
  let dir: string;
  const time = manualClock();
  const clients: RawClient[] = [];
  const identities = new Map<string, ReturnType<typeof newIdentity>>();
  const login = async (name: string) => {
    if (!identities.has(name)) identities.set(name, newIdentity());
    const c = await loginV2(t, name, identities.get(name)!, { caps: CAPS });
    clients.push(c);
    return c;
  };
  const announce = async (alice: RawClient, id: string, chunks: number) => {
    alice.send({ type: 'fnew', id, bytes: chunks * CHUNK, chunks, to: 'bob' });
    return alice.next((x) => x.type === 'fok' && x.id === id);
  };
  const chunk = (i: number) => Buffer.alloc(CHUNK, i + 1);
  const put = (alice: RawClient, file: unknown, i: number) =>
    alice.send({ type: 'fput', file, i, data: chunk(i).toString('base64') });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-hold-'));
    t = await startTestServer({ filesDir: join(dir, 'files') }, { clock: time.clock });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends what is stored at once and the rest of the request once uploaded, in order', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const ok = await announce(alice, 'h1', 3);
    put(alice, ok.file, 0);
    await alice.next((x) => x.type === 'fack' && x.have === 1);
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 0, n: 3 });
    // chunk 0 is stored: it comes while 1 and 2 are not uploaded yet
    const first = await bob.next((x) => x.type === 'fchunk' && x.i === 0);
    expect(Buffer.from(first.data as string, 'base64').equals(chunk(0))).toBe(true);
    for (const i of [1, 2]) {
      put(alice, ok.file, i);
      await alice.next((x) => x.type === 'fack' && x.have === i + 1);
    }
    for (const i of [1, 2]) {
      const got = await bob.next((x) => x.type === 'fchunk' && x.i === i);
      expect(Buffer.from(got.data as string, 'base64').equals(chunk(i))).toBe(true);
    }
    await bob.sync();
    expect(bob.frames.filter((x) => x.type === 'error')).toEqual([]);
  });

  it('refuses after FILE_HOLD_MS when the upload does not go on (E_FILE_PENDING), then at once, and the connection goes on', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const ok = await announce(alice, 'h2', 2);
    put(alice, ok.file, 0);
    await alice.next((x) => x.type === 'fack' && x.have === 1);
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 0, n: 2 });
    await bob.next((x) => x.type === 'fchunk' && x.i === 0);
    time.advance(FILE_HOLD_MS - 1);
    time.advance(1);
    const error = await bob.error('E_FILE_PENDING');
    expect(error.ref).toBe(ok.file);
    await bob.sync();
    // the upload stored nothing for FILE_HOLD_MS: the next request is not held at all
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 1, n: 1 });
    await bob.error('E_FILE_PENDING');
    await bob.sync();
  });

  it('refuses a held fget with E_NO_SUCH_FILE when the uploader withdraws the file', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const ok = await announce(alice, 'h3', 2);
    put(alice, ok.file, 0);
    await alice.next((x) => x.type === 'fack' && x.have === 1);
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 0, n: 2 });
    // chunk 0 came: the request is being served and now waits for chunk 1
    await bob.next((x) => x.type === 'fchunk' && x.i === 0);
    alice.send({ type: 'fdel', file: ok.file });
    const error = await bob.error('E_NO_SUCH_FILE');
    expect(error.ref).toBe(ok.file);
    await bob.sync();
  });
});
