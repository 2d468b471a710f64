import { afterEach, describe, expect, it } from 'vitest';
import { Heartbeat } from '../../../src/client/net/heartbeat.js';
import { manualTimers } from './fakes.js';

function harness(intervalMs = 1000, timeoutMs = 500) {
  const clock = { now: 0 };
  const pings: number[] = [];
  const deaths: string[] = [];
  const beat = new Heartbeat(
    { intervalMs, timeoutMs },
    {
      sendPing: () => pings.push(clock.now),
      dead: (reason) => deaths.push(reason),
      now: () => clock.now,
    },
  );
  /** Advances the fake clock in steps of `step` ms, running the check each step. */
  const advance = (ms: number, step = 50) => {
    for (let t = 0; t < ms; t += step) {
      clock.now += step;
      beat.check();
    }
  };
  return { clock, pings, deaths, beat, advance };
}

describe('Heartbeat', () => {
  let stopLater: Heartbeat | undefined;
  afterEach(() => stopLater?.stop());

  it('pings once after a quiet interval, not before', () => {
    const h = harness();
    h.advance(950);
    expect(h.pings).toEqual([]);
    h.advance(50);
    expect(h.pings).toEqual([1000]);
    h.advance(100); // still waiting for the answer: no second ping
    expect(h.pings).toHaveLength(1);
  });

  it('an answer clears the pending ping; the next one follows an interval after the last', () => {
    const h = harness();
    h.advance(1000);
    h.advance(200);
    h.beat.received();
    h.advance(750);
    expect(h.pings).toEqual([1000]);
    expect(h.deaths).toEqual([]);
    h.advance(50); // our own ping at 1000 was the last thing we sent
    expect(h.pings).toEqual([1000, 2000]);
    h.beat.received();
    h.beat.sent();
    h.advance(950);
    expect(h.pings).toEqual([1000, 2000]);
    h.advance(50);
    expect(h.pings).toEqual([1000, 2000, 3000]);
  });

  it('declares the link dead when nothing arrives within the timeout after a ping', () => {
    const h = harness();
    h.advance(1000);
    h.advance(450);
    expect(h.deaths).toEqual([]);
    h.advance(50);
    expect(h.deaths).toHaveLength(1);
    expect(h.deaths[0]).toMatch(/did not answer a ping/);
    expect(h.beat.running).toBe(false);
    h.advance(5000); // stopped: nothing more happens
    expect(h.deaths).toHaveLength(1);
    expect(h.pings).toHaveLength(1);
  });

  it('traffic in both directions keeps it from pinging; one quiet direction is enough to ping', () => {
    const h = harness();
    for (let i = 0; i < 20; i++) {
      h.advance(500);
      h.beat.sent();
      h.beat.received();
    }
    expect(h.pings).toEqual([]);
    // We keep sending but hear nothing (writes into a half-open link still succeed).
    for (let i = 0; i < 3; i++) {
      h.advance(500);
      h.beat.sent();
    }
    expect(h.pings).toHaveLength(1);
    h.advance(500);
    expect(h.deaths).toHaveLength(1);
  });

  it('runs on its timers until stopped, and refuses nonsense policies', () => {
    const time = manualTimers();
    let pings = 0;
    const beat = new Heartbeat(
      { intervalMs: 40, timeoutMs: 10_000 },
      {
        sendPing: () => {
          pings++;
          beat.received();
        },
        dead: () => {},
        now: time.now,
        timers: time.timers,
      },
    );
    stopLater = beat;
    beat.start();
    expect(beat.running).toBe(true);
    time.advance(30);
    expect(pings).toBe(0);
    time.advance(100);
    expect(pings).toBeGreaterThanOrEqual(2);
    beat.stop();
    expect(time.pending).toBe(0); // its timer is cancelled, not left to fire
    const after = pings;
    time.advance(10_000);
    expect(pings).toBe(after);
    beat.start(); // a stopped heartbeat does not restart
    expect(time.pending).toBe(0);
    expect(
      () => new Heartbeat({ intervalMs: 0, timeoutMs: 1 }, { sendPing() {}, dead() {} }),
    ).toThrow(RangeError);
  });
});
