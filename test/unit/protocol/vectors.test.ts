import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  aesGcmOpen,
  aesGcmSeal,
  deriveV1Key,
  ed25519Sign,
  ed25519VerifyNoble,
  fromBase64,
  hkdfSha256,
  identityPublicKey,
  keyFingerprint,
  openV1,
  sealV1,
  toBase64,
  x25519PublicKey,
  x25519SharedSecret,
} from '../../../src/protocol/index.js';

/** it.each rows `[label, case]` with the case typed for the test body. */
const table = (list: any[], label: (c: any, i: number) => unknown): Array<[unknown, any]> =>
  list.map((c, i) => [label(c, i), c]);

const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../vectors/${name}`, import.meta.url), 'utf8'));

describe('RFC 7748 X25519', () => {
  const v = load('rfc7748-x25519.json');
  it.each(table(v.scalarmult, (_c: any, i: number) => i + 1))(
    '§5.2 vector %i',
    (_i: unknown, c: any) => {
      expect(toHex(x25519SharedSecret(hex(c.scalar), hex(c.u)))).toBe(c.out);
    },
  );
  it('§5.2 iterated 1 and 1,000 times', () => {
    let k: Uint8Array = new Uint8Array(32);
    k[0] = 9;
    let u: Uint8Array = k.slice();
    for (let i = 1; i <= 1000; i++) {
      const next = x25519SharedSecret(k, u);
      u = k;
      k = next;
      if (i === 1) expect(toHex(k)).toBe(v.iterated['1']);
    }
    expect(toHex(k)).toBe(v.iterated['1000']);
  });
  it('§6.1 Diffie-Hellman', () => {
    const d = v.dh;
    expect(toHex(x25519PublicKey(hex(d.alicePrivate)))).toBe(d.alicePublic);
    expect(toHex(x25519PublicKey(hex(d.bobPrivate)))).toBe(d.bobPublic);
    expect(toHex(x25519SharedSecret(hex(d.alicePrivate), hex(d.bobPublic)))).toBe(d.shared);
    expect(toHex(x25519SharedSecret(hex(d.bobPrivate), hex(d.alicePublic)))).toBe(d.shared);
  });
});

describe('RFC 5869 HKDF-SHA256', () => {
  it.each(table(load('rfc5869-hkdf-sha256.json').cases, (c: any) => c.name))(
    '%s',
    (_n: unknown, c: any) => {
      const salt = c.salt === '' ? undefined : hex(c.salt);
      expect(toHex(hkdfSha256(hex(c.ikm), salt, hex(c.info), c.length))).toBe(c.okm);
    },
  );
});

describe('RFC 8032 Ed25519', () => {
  it.each(table(load('rfc8032-ed25519.json').cases, (c: any) => c.name))(
    '%s',
    (_n: unknown, c: any) => {
      expect(toHex(identityPublicKey(hex(c.secret)))).toBe(c.public);
      expect(toHex(ed25519Sign(hex(c.secret), hex(c.message)))).toBe(c.signature);
      expect(ed25519VerifyNoble(hex(c.public), hex(c.message), hex(c.signature))).toBe(true);
    },
  );
});

describe('AES-256-GCM (GCM specification test cases)', () => {
  it.each(table(load('aes-256-gcm.json').cases, (c: any) => c.name))(
    'case %s',
    (_n: unknown, c: any) => {
      const aad = c.aad === '' ? undefined : hex(c.aad);
      const sealed = aesGcmSeal(hex(c.key), hex(c.iv), hex(c.plaintext), aad);
      expect(toHex(sealed)).toBe(c.ciphertext + c.tag);
      expect(toHex(aesGcmOpen(hex(c.key), hex(c.iv), sealed, aad))).toBe(c.plaintext);
    },
  );
});

describe('seed v1 envelope (made independently with Python cryptography)', () => {
  const v = load('seed-v1-envelope.json');
  const b = (s: string) => fromBase64(s, 'vector');
  it('derives the same keys and fingerprints', () => {
    expect(toBase64(x25519PublicKey(b(v.alice.secret)))).toBe(v.alice.pub);
    expect(toBase64(x25519SharedSecret(b(v.alice.secret), b(v.bob.pub)))).toBe(v.shared);
    expect(toBase64(deriveV1Key(b(v.alice.secret), b(v.bob.pub)))).toBe(v.key);
    expect(toBase64(deriveV1Key(b(v.bob.secret), b(v.alice.pub)))).toBe(v.key);
    expect(keyFingerprint(b(v.alice.pub))).toBe(v.alice.fingerprint);
    expect(keyFingerprint(b(v.bob.pub))).toBe(v.bob.fingerprint);
  });
  it.each(table(v.cases, (c: any) => c.plaintext))(
    'opens and reproduces %j',
    (_p: unknown, c: any) => {
      const key = b(v.key);
      expect(openV1(key, c)).toBe(c.plaintext);
      const sealed = sealV1(key, c.plaintext, () => b(c.nonce));
      expect(sealed).toEqual({ alg: 'X25519+AESGCM', nonce: c.nonce, cipher: c.cipher });
    },
  );
});
