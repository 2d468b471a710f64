import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RateLimits, SessionRate } from '../../../src/server/limits/session-rate.js';

// Issue 16: rate limits are charged once per read when every line of the read fits. The
// same lines must be refused as when every line is checked on its own (the code before).

const limits = (over: Partial<RateLimits> = {}): RateLimits => ({
  framesPerSecond: 10,
  frameBurst: 5,
  bytesPerSecond: 1000,
  byteBurst: 500,
  abuseLimit: 20,
  abuseWindowMs: 10_000,
  ...over,
});

type Read = { at: number; lines: number[] };

/** Before: one check per line. */
function perLine(rate: SessionRate, read: Read): string[] {
  return read.lines.map((bytes) => rate.check(bytes, read.at));
}

/** Now (SessionInput.receive): all at once when all fit, else per line. */
function perRead(rate: SessionRate, read: Read): string[] {
  const total = read.lines.reduce((a, b) => a + b, 0);
  if (rate.takeAll(read.lines.length, total, read.at)) return read.lines.map(() => 'ok');
  return perLine(rate, read);
}

const run = (how: typeof perLine, reads: Read[], l: RateLimits) => {
  const rate = new SessionRate(l, 0);
  return reads.map((read) => how(rate, read));
};

describe('SessionRate, charged per read', () => {
  it.each([
    ['the whole frame burst in one read', [{ at: 0, lines: [10, 10, 10, 10, 10] }]],
    ['one frame over the burst in one read', [{ at: 0, lines: [10, 10, 10, 10, 10, 10] }]],
    [
      'the burst, then one more',
      [
        { at: 0, lines: [10, 10, 10, 10, 10] },
        { at: 0, lines: [10] },
      ],
    ],
    [
      'exactly the byte burst',
      [
        { at: 0, lines: [250, 250] },
        { at: 0, lines: [1] },
      ],
    ],
    ['one byte over the byte burst', [{ at: 0, lines: [250, 251] }]],
    [
      'refilled to exactly one frame',
      [
        { at: 0, lines: [1, 1, 1, 1, 1] },
        { at: 100, lines: [1, 1] },
      ],
    ],
    [
      'fractional refill',
      [
        { at: 0, lines: [1, 1, 1, 1, 1] },
        { at: 150, lines: [1, 1] },
        { at: 250, lines: [1] },
      ],
    ],
  ])('refuses the same frames as line-by-line checks: %s', (_label, reads) => {
    expect(run(perRead, reads, limits())).toEqual(run(perLine, reads, limits()));
  });

  it('charges the same tokens: a read that fits leaves the buckets where per-line checks do', () => {
    const a = new SessionRate(limits(), 0);
    const b = new SessionRate(limits(), 0);
    expect(a.takeAll(3, 300, 0)).toBe(true);
    for (const bytes of [100, 100, 100]) expect(b.check(bytes, 0)).toBe('ok');
    // Both have 2 frames and 200 bytes left: the same next reads pass and fail.
    expect(perLine(a, { at: 0, lines: [100, 100, 1] })).toEqual(['ok', 'ok', 'limited']);
    expect(perLine(b, { at: 0, lines: [100, 100, 1] })).toEqual(['ok', 'ok', 'limited']);
  });

  it('property: per-read charging refuses exactly the frames per-line charging refuses', () => {
    const read = fc.record({
      dt: fc.integer({ min: 0, max: 400 }),
      lines: fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }),
    });
    const config = fc.record({
      framesPerSecond: fc.integer({ min: 1, max: 50 }),
      frameBurst: fc.integer({ min: 1, max: 10 }),
      bytesPerSecond: fc.integer({ min: 1, max: 3000 }),
      byteBurst: fc.integer({ min: 200, max: 1000 }),
      abuseLimit: fc.integer({ min: 1, max: 30 }),
    });
    fc.assert(
      fc.property(config, fc.array(read, { maxLength: 20 }), (c, steps) => {
        const reads: Read[] = [];
        let at = 0;
        for (const s of steps) {
          at += s.dt;
          reads.push({ at, lines: s.lines });
        }
        const l = limits(c);
        expect(run(perRead, reads, l)).toEqual(run(perLine, reads, l));
      }),
      { numRuns: 300 },
    );
  });
});
