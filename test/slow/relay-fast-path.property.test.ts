import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCanonicalRelay } from '../../src/protocol/index.js';
import { fastMatchesSlow, relayLine, slowPath } from '../unit/protocol/relay-lines.js';

// The relay fast path's property (issue 16) with many more runs than the default suite.
describe('relay fast path, many runs', () => {
  it('spliced lines equal the slow path lines; every line the slow path refuses falls back', () => {
    let fast = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        relayLine,
        fc.constantFrom('alice', 'a', 'x'.repeat(32), 'b.o-b_1'),
        (line, from) => {
          fastMatchesSlow(line, from);
          if (readCanonicalRelay(line)) fast++;
          if (!slowPath(line, from).ok) refused++;
        },
      ),
      { numRuns: 20_000 },
    );
    // Both sides of the property were exercised.
    expect(fast).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  });
});
