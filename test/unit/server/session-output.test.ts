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
    const stats = new ServerStats();
    const output = new SessionOutput(
      transport,
      stats,
      { maxQueueBytes: 1000, slowReaderGraceMs: grace },
      () => clock.now,
      (queued) => stuck.push(queued),
    );
    return { output, clock, stuck, drain, stats };
  };

  it('counts every frame written, by kind, and only those (read at any moment)', () => {
    const { output, drain, stats } = setup();
    output.reply('a'.repeat(100), 'ack');
    output.offer('r'.repeat(100), 'relay');
    expect(stats.framesOut.get('relay')).toBe(1);
    for (let i = 0; i < 10; i++) output.offer('r'.repeat(100), 'relay'); // 8 fit, 2 dropped
    output.reply('a'.repeat(100), 'ack');
    expect(stats.copiesDropped.get('relay')).toBe(2);
    drain();
    for (const kind of [
      'users',
      'presence',
      'pong',
      'error',
      'welcome',
      'room',
      'dropped',
      'other',
      'relay',
    ])
      output.push('x', kind);
    expect(Object.fromEntries(stats.framesOut.values)).toEqual({
      ack: 2,
      relay: 10,
      users: 1,
      presence: 1,
      pong: 1,
      error: 1,
      welcome: 1,
      room: 1,
      dropped: 1,
      other: 1,
    });
    expect(stats.framesOut.total).toBe(20);
    expect(stats.bytesOut).toBe(100 * 11 + 9);
    output.close();
    output.reply('late', 'ack');
    expect(stats.framesOut.get('ack')).toBe(2);
  });

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
