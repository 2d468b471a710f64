/**
 * SessionInput's backpressure (src/server/session-input.ts) with a scripted host and
 * transport: which lines run, when the socket is paused and what wakes it again.
 */
import { describe, expect, it } from 'vitest';
import { type InputHost, SessionInput } from '../../../src/server/session-input.js';
import { ServerStats } from '../../../src/server/stats.js';
import type { Transport } from '../../../src/server/transport.js';

function harness(handle: (line: string) => Promise<void> | undefined) {
  const state = { paused: false, congested: false, drainWaits: 0, handled: [] as string[] };
  const host = {
    closed: false,
    get congested() {
      return state.congested;
    },
    handleLine(line: Uint8Array) {
      const text = Buffer.from(line).toString();
      state.handled.push(text);
      return handle(text);
    },
    log: {} as InputHost['log'],
    reply: () => true,
    refuse: () => {},
    flooding: () => {},
    waitForDrain: () => {
      state.drainWaits++;
    },
  } satisfies InputHost;
  const transport = {
    pause: () => {
      state.paused = true;
    },
    resume: () => {
      state.paused = false;
    },
  } as unknown as Transport;
  const input = new SessionInput(host, transport, {
    maxLineBytes: 1024,
    stats: new ServerStats(),
    now: () => 0,
  });
  return { input, state };
}

describe('SessionInput backpressure', () => {
  it('a handler that leaves the queue over its cap, with nothing held, waits for the drain instead of staying paused', async () => {
    let finish: () => void = () => {};
    const { input, state } = harness((line) => {
      if (line === 'a') return new Promise<void>((resolve) => (finish = resolve));
      // the last held line's answer fills the client's queue (a big file chunk)
      state.congested = true;
      return undefined;
    });
    input.receive(Buffer.from('a\nb\n'));
    expect(state.handled).toEqual(['a']);
    expect(state.paused).toBe(true); // b waits behind a
    finish();
    await Promise.resolve();
    await Promise.resolve();
    expect(state.handled).toEqual(['a', 'b']);
    // nothing is held, the queue is over its cap: still paused, and a drain will wake it
    expect(state.paused).toBe(true);
    expect(state.drainWaits).toBe(1);
    state.congested = false; // the client read its queue: the session calls resume()
    input.resume();
    expect(state.paused).toBe(false);
  });

  it('resumes the socket at once when the queue is under its cap', async () => {
    let finish: () => void = () => {};
    const { input, state } = harness((line) =>
      line === 'a' ? new Promise<void>((resolve) => (finish = resolve)) : undefined,
    );
    input.receive(Buffer.from('a\nb\n'));
    finish();
    await Promise.resolve();
    await Promise.resolve();
    expect(state.handled).toEqual(['a', 'b']);
    expect(state.paused).toBe(false);
    expect(state.drainWaits).toBe(0);
  });
});
