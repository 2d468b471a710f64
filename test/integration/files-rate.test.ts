import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFileGet, FILE_CHUNK_BYTES, sealChunk } from '../../src/protocol/index.js';
import { ALL_CAPS, barrier, loginV2 } from '../helpers/hostile.js';
import { TestClock } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 19's hung 200 MiB benchmark: a download asks for 16 chunks per `fget`, and the
 * server charged those lines to the chat frame limit (50 frames/s, burst 200). Past the
 * burst an `fget` was dropped with an id-less E_RATE_LIMITED: the client then got a later
 * batch ("chunk 5504 came when 5488 was due") or, when the dropped one was its last
 * request, nothing ever again — a download that waits forever. Here the frame bucket is
 * tiny and the clock stands still (it never refills): every request must still be served.
 */
describe('download requests are file traffic, not chat frames', () => {
  let t: TestServer;
  let dir: string;
  const clock = new TestClock();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-files-rate-'));
    t = await startTestServer(
      { filesDir: join(dir, 'files'), rateLimit: true, framesPerSecond: 1, frameBurst: 12 },
      { now: clock.now },
    );
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every fget past the chat frame burst (none dropped by the chat limit)', async () => {
    const caps = [...ALL_CAPS, 'files'];
    const alice = await loginV2(t, 'alice', undefined, { caps });
    const bob = await loginV2(t, 'bob', undefined, { caps });
    const key = randomBytes(32);
    const tid = randomBytes(16);
    const plain = randomBytes(FILE_CHUNK_BYTES);
    const sealed = Buffer.from(sealChunk(key, { transferId: tid, index: 0, final: true }, plain));
    alice.send({ type: 'fnew', id: 'n1', bytes: sealed.length, chunks: 1, to: 'bob' });
    const ok = await alice.next((x) => x.type === 'fok' || x.type === 'error');
    expect(ok).toMatchObject({ type: 'fok' });
    alice.send({ type: 'fput', file: ok.file, i: 0, data: sealed.toString('base64') });
    await alice.next((x) => x.type === 'fack' && x.have === 1);

    const requests = 40; // well past the frame burst of 12, with a clock that never refills it
    for (let k = 0; k < requests; k++)
      bob.send(encodeFileGet(ok.file as string, ok.cap as string, 0, 1));
    // The barrier's ping is a chat frame: refill the chat bucket for it (dropped fgets stay dropped).
    clock.advance(60_000);
    const frames = await barrier(bob, 10_000);
    const errors = frames.filter((x) => x.type === 'error');
    expect(errors).toEqual([]);
    expect(frames.filter((x) => x.type === 'fchunk')).toHaveLength(requests);
    alice.close();
    bob.close();
  });

  it('names the file in the E_RATE_LIMITED of a dropped control line (fstat has no id)', async () => {
    const alice = await loginV2(t, 'carol', undefined, { caps: [...ALL_CAPS, 'files'] });
    alice.send({ type: 'fnew', id: 'n2', bytes: 100, chunks: 1, to: 'carol' });
    const ok = await alice.next((x) => x.type === 'fok' || x.type === 'error');
    expect(ok).toMatchObject({ type: 'fok' });
    clock.advance(60_000); // a full chat bucket (12), then 30 fstat lines with no refill
    for (let k = 0; k < 30; k++) alice.send({ type: 'fstat', file: ok.file });
    // each line is answered (fstate, or the error naming it) before the clock moves on
    const frames = [];
    for (let k = 0; k < 30; k++)
      frames.push(await alice.next((x) => x.type === 'fstate' || x.type === 'error'));
    const states = frames.filter((x) => x.type === 'fstate');
    const limited = frames.filter((x) => x.type === 'error' && x.code === 'E_RATE_LIMITED');
    expect(states.length).toBeGreaterThan(0);
    expect(states.length).toBeLessThan(30);
    // every dropped line is answered, each naming its file (before: one id-less error a second)
    expect(limited).toHaveLength(30 - states.length);
    for (const error of limited) expect(error.ref).toBe(ok.file);
    alice.close();
  });

  it('answers a flood of control lines only up to the abuse limit, then disconnects', async () => {
    const mallory = await loginV2(t, 'mallory', undefined, { caps: [...ALL_CAPS, 'files'] });
    mallory.send({ type: 'fnew', id: 'n3', bytes: 100, chunks: 1, to: 'mallory' });
    const ok = await mallory.next((x) => x.type === 'fok' || x.type === 'error');
    expect(ok).toMatchObject({ type: 'fok' });
    clock.advance(60_000);
    // one error per dropped line would let a flood make the server write without end: the
    // abuse limit (200 dropped lines in a window) ends the connection as for chat frames
    const line = `${JSON.stringify({ type: 'fstat', file: ok.file })}\n`;
    mallory.socket.write(line.repeat(1000));
    const cut = await mallory.next(
      (x) => x.type === 'error' && String(x.text).includes('disconnected'),
    );
    expect(cut).toMatchObject({ code: 'E_RATE_LIMITED' });
    await mallory.closed;
    const answered = mallory.frames.filter((x) => x.type === 'error' && x.ref === ok.file);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.length).toBeLessThanOrEqual(200);
  });
});
