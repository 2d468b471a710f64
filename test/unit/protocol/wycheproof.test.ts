import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  aesGcmOpen,
  aesGcmSeal,
  hkdfSha256,
  ProtocolError,
  x25519SharedSecret,
} from '../../../src/protocol/index.js';

/** it.each rows `[label, case]` with the case typed for the test body. */
const table = (list: any[], label: (c: any, i: number) => unknown): Array<[unknown, any]> =>
  list.map((c, i) => [label(c, i), c]);

const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
// ../shared/vectors sits beside the repository, in CI too.
const load = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../../../shared/vectors/wycheproof/${name}`, import.meta.url), 'utf8'),
  );

interface GcmTest {
  tcId: number;
  iv: string;
  key: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

describe('Wycheproof AES-GCM (256-bit keys, 96-bit IVs, 128-bit tags: what our API accepts)', () => {
  const groups = load('aes_gcm_test.json').testGroups.filter(
    (g: { keySize: number; ivSize: number; tagSize: number }) =>
      g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128,
  );
  const tests: GcmTest[] = groups.flatMap((g: { tests: GcmTest[] }) => g.tests);
  it('has cases to run', () => expect(tests.length).toBeGreaterThan(20));
  it.each(table(tests, (t: any) => t.tcId))('tcId %i', (_id, t) => {
    const aad = t.aad === '' ? undefined : hex(t.aad);
    const sealed = hex(t.ct + t.tag);
    if (t.result === 'valid') {
      expect(toHex(aesGcmSeal(hex(t.key), hex(t.iv), hex(t.msg), aad))).toBe(t.ct + t.tag);
      expect(toHex(aesGcmOpen(hex(t.key), hex(t.iv), sealed, aad))).toBe(t.msg);
    } else {
      expect(() => aesGcmOpen(hex(t.key), hex(t.iv), sealed, aad)).toThrow(ProtocolError);
    }
  });
});

describe('Wycheproof X25519', () => {
  const tests = load('x25519_test.json').testGroups.flatMap(
    (g: {
      tests: Array<{
        tcId: number;
        public: string;
        private: string;
        shared: string;
        result: string;
        flags: string[];
      }>;
    }) => g.tests,
  );
  it.each(table(tests, (t: any) => t.tcId))('tcId %i', (_id: unknown, t: any) => {
    const zero = /^0+$/.test(t.shared);
    if (t.result === 'invalid' || zero) {
      // all-zero shared secrets (low-order points) are refused: ProtocolError E_BAD_KEY
      expect(() => x25519SharedSecret(hex(t.private), hex(t.public))).toThrow(
        expect.objectContaining({ code: 'E_BAD_KEY' }),
      );
    } else {
      // "acceptable" non-canonical encodings are accepted and must give the expected output
      expect(toHex(x25519SharedSecret(hex(t.private), hex(t.public)))).toBe(t.shared);
    }
  });
});

describe('Wycheproof HKDF-SHA256', () => {
  const tests = load('hkdf_sha256_test.json').testGroups.flatMap(
    (g: {
      tests: Array<{
        tcId: number;
        ikm: string;
        salt: string;
        info: string;
        size: number;
        okm: string;
        result: string;
      }>;
    }) => g.tests,
  );
  it.each(table(tests, (t: any) => t.tcId))('tcId %i', (_id: unknown, t: any) => {
    const salt = t.salt === '' ? undefined : hex(t.salt);
    if (t.result === 'valid')
      expect(toHex(hkdfSha256(hex(t.ikm), salt, hex(t.info), t.size))).toBe(t.okm);
    else expect(() => hkdfSha256(hex(t.ikm), salt, hex(t.info), t.size)).toThrow();
  });
});
