import { describe, expect, it } from 'vitest';
import {
  aesGcmOpen,
  aesGcmSeal,
  ed25519VerifyNoble,
  hkdfSha256,
  ProtocolError,
  x25519SharedSecret,
} from '../../../src/protocol/index.js';
import { codeOf, hex, loadWycheproof, table, toHex } from './helpers.js';

// Extended crypto tests on the Wycheproof vectors in ../shared/vectors/wycheproof (beside
// the repository, never copied into it; see helpers.ts). Every `valid` case must pass and
// every `invalid` case must be rejected. Groups that do not fit our API are not silently
// dropped: each is listed below with its reason, and our API is shown to refuse them.

interface GcmTest {
  tcId: number;
  comment: string;
  flags: string[];
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface GcmGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: GcmTest[];
}

describe('Wycheproof AES-GCM (aes_gcm_test.json)', () => {
  const file = loadWycheproof('aes_gcm_test.json');
  const groups: GcmGroup[] = file.testGroups;
  const applies = (g: GcmGroup) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128;
  const tests = groups.filter(applies).flatMap((g) => g.tests);
  const aadOf = (t: GcmTest) => (t.aad === '' ? undefined : hex(t.aad));

  it('is the AES-GCM file and has AES-256 / 96-bit IV / 128-bit tag cases to run', () => {
    expect(file.algorithm).toBe('AES-GCM');
    expect(tests.filter((t) => t.result === 'valid').length).toBeGreaterThan(20);
    expect(tests.filter((t) => t.result === 'invalid').length).toBeGreaterThan(10);
    // no "acceptable" cases in these groups: each case has a definite answer
    expect(tests.filter((t) => t.result === 'acceptable')).toEqual([]);
  });

  it.each(table(tests, (t) => `${t.tcId} ${t.result} ${t.comment}`.trim()))('tcId %s', (_id, t) => {
    const sealed = hex(t.ct + t.tag);
    if (t.result === 'valid') {
      expect(toHex(aesGcmSeal(hex(t.key), hex(t.iv), hex(t.msg), aadOf(t)))).toBe(t.ct + t.tag);
      expect(toHex(aesGcmOpen(hex(t.key), hex(t.iv), sealed, aadOf(t)))).toBe(t.msg);
    } else {
      expect(codeOf(() => aesGcmOpen(hex(t.key), hex(t.iv), sealed, aadOf(t)))).toBe(
        'E_DECRYPT_FAILED',
      );
    }
  });

  it('valid cases with the tag cut to 4, 8, 12 or 15 bytes are all refused (DEP0182)', () => {
    for (const t of tests.filter((c) => c.result === 'valid')) {
      for (const tagBytes of [4, 8, 12, 15]) {
        const sealed = hex(t.ct + t.tag.slice(0, tagBytes * 2));
        expect(codeOf(() => aesGcmOpen(hex(t.key), hex(t.iv), sealed, aadOf(t)))).toBe(
          'E_DECRYPT_FAILED',
        );
      }
    }
  });

  // Skipped groups and why. Every group of the file is in exactly one of these lists.
  const otherKeySizes = groups.filter((g) => g.keySize !== 256);
  const otherIvSizes = groups.filter((g) => g.keySize === 256 && g.ivSize !== 96);
  const otherTagSizes = groups.filter(
    (g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize !== 128,
  );

  it('accounts for every group: applicable or skipped for a stated reason', () => {
    const applicable = groups.filter(applies);
    expect(
      applicable.length + otherKeySizes.length + otherIvSizes.length + otherTagSizes.length,
    ).toBe(groups.length);
  });

  it('skips AES-128/192 groups: our API is AES-256 only and refuses other key sizes', () => {
    expect(otherKeySizes.length).toBeGreaterThan(0);
    for (const t of otherKeySizes.flatMap((g) => g.tests)) {
      expect(() => aesGcmSeal(hex(t.key), new Uint8Array(12), hex(t.msg))).toThrow(RangeError);
      expect(() => aesGcmOpen(hex(t.key), new Uint8Array(12), hex(t.ct + t.tag))).toThrow(
        RangeError,
      );
    }
  });

  it('skips non-96-bit IV groups: our nonce is always 12 bytes, other lengths are refused', () => {
    expect(otherIvSizes.length).toBeGreaterThan(0);
    for (const t of otherIvSizes.flatMap((g) => g.tests)) {
      expect(() => aesGcmSeal(hex(t.key), hex(t.iv), hex(t.msg), aadOf(t))).toThrow(RangeError);
      expect(codeOf(() => aesGcmOpen(hex(t.key), hex(t.iv), hex(t.ct + t.tag), aadOf(t)))).toBe(
        'E_DECRYPT_FAILED',
      );
    }
  });

  it('skips truncated-tag groups (none in this file): the test above covers short tags', () => {
    for (const t of otherTagSizes.flatMap((g) => g.tests)) {
      expect(codeOf(() => aesGcmOpen(hex(t.key), hex(t.iv), hex(t.ct + t.tag), aadOf(t)))).toBe(
        'E_DECRYPT_FAILED',
      );
    }
  });
});

interface XdhTest {
  tcId: number;
  comment: string;
  flags: string[];
  public: string;
  private: string;
  shared: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

describe('Wycheproof X25519 (x25519_test.json)', () => {
  const file = loadWycheproof('x25519_test.json');
  const tests: XdhTest[] = file.testGroups.flatMap(
    (g: { curve: string; tests: XdhTest[] }) => g.tests,
  );
  const zeroShared = (t: XdhTest) => /^(00)+$/.test(t.shared);

  it('is the curve25519 XDH file', () => {
    expect(file.algorithm).toBe('XDH');
    for (const group of file.testGroups) expect(group.curve).toBe('curve25519');
  });

  it('has low-order cases, all "acceptable" with an all-zero secret, which we refuse', () => {
    const zero = tests.filter(zeroShared);
    expect(zero.length).toBeGreaterThan(0);
    for (const t of zero) expect(t.result).toBe('acceptable');
  });

  // valid: must give the expected secret. acceptable: non-canonical or twist points give
  // the expected secret too; low-order points (all-zero secret) must throw E_BAD_KEY, since
  // x25519SharedSecret refuses them (RFC 7748 §6.1 check). invalid: must throw E_BAD_KEY.
  it.each(table(tests, (t) => `${t.tcId} ${t.result} [${t.flags.join(',')}]`))(
    'tcId %s',
    (_id, t) => {
      const compute = () => x25519SharedSecret(hex(t.private), hex(t.public));
      if (t.result === 'invalid' || zeroShared(t)) {
        expect(() => compute()).toThrow(ProtocolError);
        expect(codeOf(compute)).toBe('E_BAD_KEY');
      } else {
        expect(toHex(compute())).toBe(t.shared);
      }
    },
  );
});

interface EddsaGroup {
  publicKey: { pk: string; curve: string };
  tests: Array<{
    tcId: number;
    comment: string;
    msg: string;
    sig: string;
    result: 'valid' | 'invalid' | 'acceptable';
  }>;
}

describe('Wycheproof Ed25519 (ed25519_test.json) through ed25519VerifyNoble', () => {
  const file = loadWycheproof('ed25519_test.json');
  const cases = (file.testGroups as EddsaGroup[]).flatMap((g) =>
    g.tests.map((t) => ({ ...t, pk: g.publicKey.pk })),
  );

  it('is the Ed25519 file, with valid and invalid cases only', () => {
    expect(file.algorithm).toBe('EDDSA');
    expect(new Set(cases.map((c) => c.result))).toEqual(new Set(['valid', 'invalid']));
  });

  it.each(table(cases, (c) => `${c.tcId} ${c.result} ${c.comment}`.trim()))('tcId %s', (_id, c) => {
    expect(ed25519VerifyNoble(hex(c.pk), hex(c.msg), hex(c.sig))).toBe(c.result === 'valid');
  });
});

describe('Wycheproof HKDF-SHA256 (hkdf_sha256_test.json)', () => {
  const file = loadWycheproof('hkdf_sha256_test.json');
  const tests = file.testGroups.flatMap(
    (g: {
      tests: Array<{
        tcId: number;
        comment: string;
        ikm: string;
        salt: string;
        info: string;
        size: number;
        okm: string;
        result: string;
      }>;
    }) => g.tests,
  ) as Array<{
    tcId: number;
    comment: string;
    ikm: string;
    salt: string;
    info: string;
    size: number;
    okm: string;
    result: string;
  }>;

  it('is the HKDF-SHA-256 file', () => {
    expect(file.algorithm).toBe('HKDF-SHA-256');
    expect(tests.filter((t) => t.result === 'invalid').length).toBeGreaterThan(0);
  });

  // invalid cases ask for more than 255 × 32 bytes (RFC 5869 §2.3): hkdfSha256 must throw.
  it.each(table(tests, (t) => `${t.tcId} ${t.result} ${t.comment}`.trim()))('tcId %s', (_id, t) => {
    const salt = t.salt === '' ? undefined : hex(t.salt);
    const derive = () => hkdfSha256(hex(t.ikm), salt, hex(t.info), t.size);
    if (t.result === 'valid') expect(toHex(derive())).toBe(t.okm);
    else expect(derive).toThrow();
  });
});

describe('Wycheproof HMAC-SHA256 (hmac_sha256_test.json)', () => {
  it.skip('not applicable: src/protocol has no HMAC function of its own (ratchet/kdf.ts and sender-keys.ts call @noble/hashes hmac on fixed one-byte inputs)', () => {});
});
