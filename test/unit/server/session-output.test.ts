import { describe, expect, it } from 'vitest';
import { SessionOutput } from '../../../src/server/session-output.js';
import { ServerStats } from '../../../src/server/stats.js';
import type { Transport } from '../../../src/server/transport.js';

/** A transport whose queue only grows (the client reads nothing) until `drain()`. */
function stuckTransport() {
  let queued = 0;
  const transport = {
    remote: '10.0.0.1:1',
    remoteAddress: '10.0.0.1',
    addressKey: '10.0.0.1',
    bytesRead: 0,
    get writableLength() {
      return queued;
    },
    write(data: string | Uint8Array) {
      queued += data.length;
      return true;
    },
    pause() {},
    resume() {},
    whenDrained(callback: () => void) {
      callback();
    },
    end() {},
    destroy() {},
  } satisfies Transport;
  return { transport, drain: () => (queued = 0) };
}

describe('SessionOutput', () => {
  const setup = (grace = 10_000) => {
    const { transport, drain } = stuckTransport();
    const clock = { now: 0 };
    const stuck: number[] = [];
    const output = new SessionOutput(
      transport,
      new ServerStats(),
      { maxQueueBytes: 1000, slowReaderGraceMs: grace },
      () => clock.now,
      (queued) => stuck.push(queued),
    );
    return { output, clock, stuck, drain };
  };

  it('always queues replies, whatever is queued: a client is never punished for asking', () => {
    const { output, stuck } = setup();
    for (let i = 0; i < 10; i++) expect(output.reply('x'.repeat(500), 'rooms')).toBe(true);
    expect(output.congested).toBe(true);
    expect(stuck).toEqual([]);
  });

  it('drops peer copies while the queue is full; only a queue stuck past the grace drops the client', () => {
    const { output, clock, stuck, drain } = setup();
    expect(output.offer('x'.repeat(900), 'relay')).toBe('queued');
    expect(output.offer('x'.repeat(200), 'relay')).toBe('full');
    clock.now = 9_999;
    expect(output.offer('x'.repeat(200), 'relay')).toBe('full');
    expect(stuck).toEqual([]);
    drain(); // it read everything: the clock starts again
    output.drained();
    expect(output.offer('x'.repeat(900), 'relay')).toBe('queued');
    clock.now = 15_000;
    expect(output.offer('x'.repeat(200), 'relay')).toBe('full');
    expect(stuck).toEqual([]);
    clock.now = 25_000;
    output.offer('x'.repeat(200), 'relay');
    expect(stuck).toEqual([900]);
  });

  it('queues membership changes up to twice the cap, then gives up on the client', () => {
    const { output, stuck } = setup();
    expect(output.offer('x'.repeat(1000), 'relay')).toBe('queued');
    expect(output.push('x'.repeat(900), 'room')).toBe('queued');
    expect(stuck).toEqual([]);
    output.push('x'.repeat(200), 'room');
    expect(stuck).toEqual([1900]);
  });

  it('writes nothing once closed', () => {
    const { output } = setup();
    output.close();
    expect(output.reply('x', 'error')).toBe(false);
    expect(output.offer('x', 'relay')).toBe('closed');
  });
});
