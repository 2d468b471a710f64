import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabeledCounter } from '../../../src/server/stats.js';

const LABELS = [
  'relay',
  'ack',
  'error',
  'welcome',
  'users',
  'presence',
  'pong',
  'room',
  'dropped',
  'prekeys',
  'bundle',
  'other',
];

type Op =
  | { kind: 'tally'; label: string }
  | { kind: 'inc'; label: string; by: number }
  | { kind: 'read'; how: 'get' | 'total' | 'values'; label: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('tally' as const),
      label: fc.constantFrom(...LABELS),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('inc' as const),
      label: fc.constantFrom(...LABELS),
      by: fc.integer({ min: 1, max: 1000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      how: fc.constantFrom('get' as const, 'total' as const, 'values' as const),
      label: fc.constantFrom(...LABELS),
    }),
  },
);

describe('LabeledCounter', () => {
  it('tally counts what inc(label) would, whatever reads come between (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const counter = new LabeledCounter();
        const reference = new Map<string, number>();
        const add = (label: string, by: number) =>
          reference.set(label, (reference.get(label) ?? 0) + by);
        for (const step of ops) {
          if (step.kind === 'tally') {
            counter.tally(step.label);
            add(step.label, 1);
          } else if (step.kind === 'inc') {
            counter.inc(step.label, step.by);
            add(step.label, step.by);
          } else if (step.how === 'get') {
            expect(counter.get(step.label)).toBe(reference.get(step.label) ?? 0);
          } else if (step.how === 'total') {
            expect(counter.total).toBe([...reference.values()].reduce((a, b) => a + b, 0));
          } else {
            expect(new Map(counter.values)).toEqual(reference);
          }
        }
        expect(new Map(counter.values)).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  it('more pending labels than it keeps apart: nothing is lost', () => {
    const counter = new LabeledCounter();
    for (let round = 0; round < 3; round++) for (const label of LABELS) counter.tally(label);
    expect(counter.total).toBe(3 * LABELS.length);
    for (const label of LABELS) expect(counter.get(label)).toBe(3);
  });
});
