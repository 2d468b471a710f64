import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ed25519Sign,
  ed25519Verify,
  ed25519VerifyNoble,
  ed25519VerifyNode,
  generateIdentityKeyPair,
} from '../../../src/protocol/index.js';
import { loadWycheproof } from './helpers.js';

const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));

interface WycheproofGroup {
  publicKey: { pk: string };
  tests: Array<{
    tcId: number;
    msg: string;
    sig: string;
    result: 'valid' | 'invalid' | 'acceptable';
  }>;
}
const wycheproof = loadWycheproof('ed25519_test.json') as { testGroups: WycheproofGroup[] };

// The server verifies with node:crypto (faster, see bench/ed25519.mjs); clients sign with
// noble. Both paths must accept and reject exactly the same signatures.
describe('node:crypto and noble Ed25519 verification agree', () => {
  it('uses the node:crypto path for the project-wide verify', () => {
    expect(ed25519Verify).toBe(ed25519VerifyNode);
  });

  const cases = wycheproof.testGroups.flatMap((group) =>
    group.tests.map((test) => ({ pk: hex(group.publicKey.pk), ...test })),
  );

  it.each(cases.map((c) => [c.tcId, c]))('Wycheproof tcId %i', (_id, c) => {
    const node = ed25519VerifyNode(c.pk, hex(c.msg), hex(c.sig));
    const noble = ed25519VerifyNoble(c.pk, hex(c.msg), hex(c.sig));
    expect(node).toBe(noble);
    if (c.result === 'valid') expect(node).toBe(true);
    if (c.result === 'invalid') expect(node).toBe(false);
  });

  it('agree on random keys, messages and single-bit forgeries', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.nat(),
        fc.constantFrom('sig', 'msg', 'key', 'none'),
        (message, bit, target) => {
          const { secretKey, publicKey } = generateIdentityKeyPair();
          const signature = ed25519Sign(secretKey, message);
          const flip = (bytes: Uint8Array) => {
            if (bytes.length === 0) return bytes;
            const copy = bytes.slice();
            const i = bit % (bytes.length * 8);
            copy[i >> 3]! ^= 1 << (i & 7);
            return copy;
          };
          const sig = target === 'sig' ? flip(signature) : signature;
          const msg = target === 'msg' ? flip(message) : message;
          const key = target === 'key' ? flip(publicKey) : publicKey;
          const node = ed25519VerifyNode(key, msg, sig);
          expect(node).toBe(ed25519VerifyNoble(key, msg, sig));
          if (target === 'none') expect(node).toBe(true);
          if (target === 'sig' || (target === 'msg' && message.length > 0))
            expect(node).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('return false (never throw) on malformed lengths', () => {
    const { publicKey } = generateIdentityKeyPair();
    for (const verify of [ed25519VerifyNode, ed25519VerifyNoble]) {
      expect(verify(publicKey.subarray(0, 31), new Uint8Array(1), new Uint8Array(64))).toBe(false);
      expect(verify(publicKey, new Uint8Array(1), new Uint8Array(63))).toBe(false);
      expect(verify(new Uint8Array(32), new Uint8Array(1), new Uint8Array(64))).toBe(false);
    }
  });
});
