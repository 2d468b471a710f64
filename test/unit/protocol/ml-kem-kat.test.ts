import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  kemDecapsulate,
  kemEncapsulate,
  kemKeyPair,
  MLKEM1024_CIPHERTEXT_BYTES,
} from '../../../src/protocol/index.js';

/** Known-answer tests of ML-KEM-1024 (Wycheproof and C2SP/CCTV; see test/vectors/ml-kem/SOURCE.md). */

const dir = new URL('../../vectors/ml-kem/', import.meta.url);
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** `name = hex` lines (CCTV's text format). */
function readKeyValues(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(new URL(file, dir), 'utf8').split('\n')) {
    const m = /^(\S+) = ([0-9a-f]+)$/.exec(line.trim());
    if (m && out[m[1]!] === undefined) out[m[1]!] = m[2]!;
  }
  return out;
}

const fixed = (bytes: Uint8Array) => () => bytes;

interface WycheproofTest {
  tcId: number;
  comment?: string;
  seed?: string;
  m?: string;
  ek?: string;
  dk?: string;
  c?: string;
  K?: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

function wycheproof(name: string): WycheproofTest[] {
  const file = JSON.parse(readFileSync(new URL(`wycheproof-${name}.json`, dir), 'utf8')) as {
    testGroups: Array<{ parameterSet: string; tests: WycheproofTest[] }>;
  };
  return file.testGroups.flatMap((g) => {
    expect(g.parameterSet).toBe('ML-KEM-1024');
    return g.tests;
  });
}

describe('ML-KEM-1024 known answers (Wycheproof, FIPS 203 final)', () => {
  it('KeyGen from the 64-byte seed d ‖ z gives ek and dk (100 vectors)', () => {
    const tests = wycheproof('mlkem_1024_keygen_seed_test');
    expect(tests).toHaveLength(100);
    for (const t of tests) {
      const pair = kemKeyPair(hex(t.seed!));
      expect(toHex(pair.publicKey), `tcId ${t.tcId}`).toBe(t.ek);
      expect(toHex(pair.secretKey), `tcId ${t.tcId}`).toBe(t.dk);
    }
  });

  it('Encaps with fixed m gives c and K; invalid encapsulation keys are refused (269 vectors)', () => {
    let valid = 0;
    let invalid = 0;
    for (const t of wycheproof('mlkem_1024_encaps_test')) {
      if (t.result === 'valid') {
        const out = kemEncapsulate(hex(t.ek!), fixed(hex(t.m!)));
        expect(toHex(out.cipherText), `tcId ${t.tcId}`).toBe(t.c);
        expect(toHex(out.sharedSecret), `tcId ${t.tcId}`).toBe(t.K);
        valid++;
      } else {
        expect(() => kemEncapsulate(hex(t.ek!), fixed(hex(t.m!))), `tcId ${t.tcId}`).toThrow(
          /not a valid ML-KEM-1024 key/,
        );
        invalid++;
      }
    }
    expect([valid, invalid]).toEqual([133, 136]);
  });

  it('KeyGen + Decaps: the agreed K, implicit rejection of bad ciphertexts, bad inputs refused (193 vectors)', () => {
    let valid = 0;
    let invalid = 0;
    for (const t of wycheproof('mlkem_1024_test')) {
      const run = () => {
        const pair = kemKeyPair(hex(t.seed!));
        if (t.ek) expect(toHex(pair.publicKey)).toBe(t.ek);
        return toHex(kemDecapsulate(hex(t.c!), pair.secretKey));
      };
      if (t.result === 'valid') {
        expect(run(), `tcId ${t.tcId} ${t.comment ?? ''}`).toBe(t.K);
        valid++;
      } else {
        expect(run, `tcId ${t.tcId} ${t.comment ?? ''}`).toThrow();
        invalid++;
      }
    }
    expect(valid + invalid).toBe(193);
    expect(invalid).toBeGreaterThan(0);
  });

  it('Decaps input checks: wrong lengths and corrupted decapsulation keys refused (FIPS 203 §7.3)', () => {
    let invalid = 0;
    for (const t of wycheproof('mlkem_1024_semi_expanded_decaps_test')) {
      if (t.result === 'valid') {
        expect(toHex(kemDecapsulate(hex(t.c!), hex(t.dk!))), `tcId ${t.tcId}`).toBe(t.K);
      } else {
        expect(
          () => kemDecapsulate(hex(t.c!), hex(t.dk!)),
          `tcId ${t.tcId} ${t.comment}`,
        ).toThrow();
        invalid++;
      }
    }
    expect(invalid).toBe(6);
  });
});

describe('ML-KEM-1024 known answers (C2SP/CCTV)', () => {
  it('strcmp vector: an invalid ciphertext gets the implicit-rejection key K, not the real one', () => {
    const v = readKeyValues('strcmp-ML-KEM-1024.txt');
    expect(toHex(kemDecapsulate(hex(v.c!), hex(v.dk!)))).toBe(v.K);
  });

  it('refuses all 1,040 encapsulation keys that fail the modulus check (FIPS 203 §7.2)', () => {
    const lines = gunzipSync(readFileSync(new URL('modulus-ML-KEM-1024.txt.gz', dir)))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(1040);
    let refused = 0;
    for (const line of lines) {
      try {
        kemEncapsulate(hex(line));
      } catch (error) {
        expect((error as { code?: string }).code).toBe(ErrorCode.BAD_KEY);
        refused++;
      }
    }
    expect(refused).toBe(1040);
  });

  it('refuses encapsulation keys and ciphertexts of the wrong length (FIPS 203 §7.2, §7.3)', () => {
    const pair = kemKeyPair(new Uint8Array(64).fill(7));
    expect(() => kemEncapsulate(pair.publicKey.subarray(1))).toThrow(/not a valid ML-KEM-1024/);
    expect(() => kemEncapsulate(new Uint8Array(1569))).toThrow(/not a valid ML-KEM-1024/);
    const { cipherText } = kemEncapsulate(pair.publicKey);
    expect(() => kemDecapsulate(cipherText.subarray(1), pair.secretKey)).toThrow(/wrong length/);
    expect(() =>
      kemDecapsulate(new Uint8Array(MLKEM1024_CIPHERTEXT_BYTES + 1), pair.secretKey),
    ).toThrow(/wrong length/);
  });

  it('refuses a decapsulation key whose embedded H(ek) does not match (FIPS 203 §7.3 hash check)', () => {
    const pair = kemKeyPair(new Uint8Array(64).fill(9));
    const { cipherText } = kemEncapsulate(pair.publicKey);
    const broken = pair.secretKey.slice();
    // dk = dkPKE (1536) ‖ ek (1568) ‖ H(ek) (32) ‖ z (32): flip a bit of H(ek).
    broken[1536 + 1568] = broken[1536 + 1568]! ^ 1;
    expect(() => kemDecapsulate(cipherText, broken)).toThrow(/decapsulation input refused/);
    expect(() => kemDecapsulate(cipherText, pair.secretKey.subarray(1))).toThrow(
      /decapsulation input refused/,
    );
  });

  it('a tampered ciphertext of the right length decapsulates to another key (implicit rejection)', () => {
    const pair = kemKeyPair(new Uint8Array(64).fill(3));
    const { cipherText, sharedSecret } = kemEncapsulate(pair.publicKey);
    const tampered = cipherText.slice();
    tampered[100] = tampered[100]! ^ 0x40;
    expect(toHex(kemDecapsulate(tampered, pair.secretKey))).not.toBe(toHex(sharedSecret));
    expect(toHex(ml_kem1024.decapsulate(cipherText, pair.secretKey))).toBe(toHex(sharedSecret));
  });
});
