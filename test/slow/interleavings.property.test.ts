import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SKIP, ProtocolError, type SessionState } from '../../src/protocol/index.js';
import { handshake, receive, send, type Wire } from '../unit/ratchet/fixtures.js';

type Step =
  | { kind: 'send'; from: 'a' | 'b' }
  | { kind: 'deliver'; to: 'a' | 'b'; pick: number; duplicate: boolean }
  | { kind: 'drop'; to: 'a' | 'b'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('send' as const),
    from: fc.constantFrom('a' as const, 'b' as const),
  }),
  fc.record({
    kind: fc.constant('deliver' as const),
    to: fc.constantFrom('a' as const, 'b' as const),
    pick: fc.nat(),
    duplicate: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('drop' as const),
    to: fc.constantFrom('a' as const, 'b' as const),
    pick: fc.nat(),
  }),
);

describe('Double Ratchet under random interleavings (property)', () => {
  it('every delivered message decrypts exactly once to its plaintext; duplicates are refused', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const session = handshake();
        const state: Record<'a' | 'b', SessionState> = { a: session.a, b: session.b };
        // a can send at once; b could too (it received the first message)
        const inFlight: Record<'a' | 'b', Array<{ wire: Wire; text: string }>> = { a: [], b: [] };
        const delivered = new Set<string>();
        let counter = 0;
        for (const s of steps) {
          if (s.kind === 'send') {
            const text = `${s.from}-${counter++}`;
            const out = send(state[s.from], text);
            state[s.from] = out.state;
            inFlight[s.from === 'a' ? 'b' : 'a'].push({ wire: out.wire, text });
          } else {
            const queue = inFlight[s.to];
            if (queue.length === 0) continue;
            const index = s.pick % queue.length;
            const message = queue[index]!;
            if (s.kind === 'drop' || !s.duplicate) queue.splice(index, 1);
            if (s.kind === 'drop') continue;
            try {
              const got = receive(state[s.to], message.wire);
              state[s.to] = got.state;
              expect(got.text).toBe(message.text);
              expect(delivered.has(message.text)).toBe(false);
              delivered.add(message.text);
            } catch (error) {
              expect(error).toBeInstanceOf(ProtocolError);
              const code = (error as ProtocolError).code;
              // within 60 steps no jump reaches MAX_SKIP: the only refusal is a duplicate
              expect(code).toBe('E_RATCHET_DUPLICATE');
              expect(delivered.has(message.text)).toBe(true);
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a jump of exactly MAX_SKIP keys is accepted (the bound itself)', () => {
    let { a, b } = handshake();
    let last: Wire | undefined;
    for (let i = 0; i <= MAX_SKIP; i++) {
      const out = send(a, `m${i}`);
      a = out.state;
      last = out.wire;
    }
    expect(receive(b, last!).text).toBe(`m${MAX_SKIP}`);
  });

  it('nothing past the skip bound is accepted', () => {
    fc.assert(
      // extra = 1 skips exactly MAX_SKIP keys, which the bound allows (see above)
      fc.property(fc.integer({ min: 2, max: 40 }), (extra) => {
        let { a, b } = handshake();
        let last: Wire | undefined;
        for (let i = 0; i < MAX_SKIP + extra; i++) {
          const out = send(a, `m${i}`);
          a = out.state;
          last = out.wire;
        }
        expect(() => receive(b, last!)).toThrow(
          expect.objectContaining({ code: 'E_RATCHET_TOO_MANY_SKIPPED' }),
        );
      }),
      { numRuns: 3 },
    );
  });
});
