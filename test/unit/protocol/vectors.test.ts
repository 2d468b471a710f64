import { describe, expect, it } from 'vitest';
import {
  aesGcmOpen,
  aesGcmSeal,
  decodeJsonLine,
  deriveV1Key,
  ed25519Sign,
  ed25519VerifyNoble,
  fromBase64,
  hkdfSha256,
  identityPublicKey,
  keyFingerprint,
  LineDecoder,
  openV1,
  parseClientFrame,
  sealV1,
  toBase64,
  V1_HKDF_INFO,
  x25519PublicKey,
  x25519SharedSecret,
} from '../../../src/protocol/index.js';
import { codeOf, hex, loadVector, table, toHex, utf8 } from './helpers.js';

// Vectors from the RFCs and NIST (test/vectors/*.json, each with its `source`), checked
// against Python `cryptography` by test/vectors/make-rfc-vectors.py before being written.

describe('RFC 7748 X25519 (test/vectors/rfc7748-x25519.json)', () => {
  const v = loadVector('rfc7748-x25519.json');

  it.each(table(v.scalarmult as any[], (_c, i) => i + 1))('§5.2 vector %s', (_i, c) => {
    expect(toHex(x25519SharedSecret(hex(c.scalar), hex(c.u)))).toBe(c.out);
  });

  it('§5.2 iterated: after 1 and 1,000 iterations', () => {
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

  it('§6.1 Diffie-Hellman: both public keys and the same shared secret on both sides', () => {
    const d = v.dh;
    expect(toHex(x25519PublicKey(hex(d.alicePrivate)))).toBe(d.alicePublic);
    expect(toHex(x25519PublicKey(hex(d.bobPrivate)))).toBe(d.bobPublic);
    expect(toHex(x25519SharedSecret(hex(d.alicePrivate), hex(d.bobPublic)))).toBe(d.shared);
    expect(toHex(x25519SharedSecret(hex(d.bobPrivate), hex(d.alicePublic)))).toBe(d.shared);
  });
});

describe('RFC 5869 HKDF-SHA256 (test/vectors/rfc5869-hkdf-sha256.json)', () => {
  const v = loadVector('rfc5869-hkdf-sha256.json');
  it('has the three SHA-256 cases A.1-A.3', () => {
    expect(v.cases.map((c: any) => c.name)).toEqual(['A.1', 'A.2', 'A.3']);
  });
  it.each(table(v.cases as any[], (c) => c.name))('Appendix %s', (_n, c) => {
    // A.3 has a zero-length salt, which §2.2 treats as HashLen zero bytes, like "no salt".
    const salt = c.salt === '' ? undefined : hex(c.salt);
    expect(toHex(hkdfSha256(hex(c.ikm), salt, hex(c.info), c.length))).toBe(c.okm);
    if (c.salt === '') {
      expect(toHex(hkdfSha256(hex(c.ikm), new Uint8Array(32), hex(c.info), c.length))).toBe(c.okm);
    }
  });
});

describe('RFC 8032 Ed25519 (test/vectors/rfc8032-ed25519.json)', () => {
  const v = loadVector('rfc8032-ed25519.json');
  it('has TEST 1, 2, 3, 1024 and SHA(abc)', () => {
    expect(v.cases.map((c: any) => c.name)).toEqual([
      'TEST 1',
      'TEST 2',
      'TEST 3',
      'TEST 1024',
      'TEST SHA(abc)',
    ]);
    expect(hex(v.cases[3].message)).toHaveLength(1023);
  });

  it.each(table(v.cases as any[], (c) => c.name))('§7.1 %s', (_n, c) => {
    const message = hex(c.message);
    expect(toHex(identityPublicKey(hex(c.secret)))).toBe(c.public);
    expect(toHex(ed25519Sign(hex(c.secret), message))).toBe(c.signature);
    expect(ed25519VerifyNoble(hex(c.public), message, hex(c.signature))).toBe(true);
  });

  it.each(table(v.cases as any[], (c) => c.name))(
    '%s: a flipped bit in the signature, the message or the key is refused',
    (_n, c) => {
      const flip = (bytes: Uint8Array, bit: number) => {
        const copy = bytes.slice();
        copy[bit >> 3]! ^= 1 << (bit & 7);
        return copy;
      };
      const pub = hex(c.public);
      const message = hex(c.message);
      const signature = hex(c.signature);
      for (const bit of [0, 100, 255, 256, 300, 511]) {
        expect(ed25519VerifyNoble(pub, message, flip(signature, bit))).toBe(false);
      }
      if (message.length > 0)
        expect(ed25519VerifyNoble(pub, flip(message, 0), signature)).toBe(false);
      else expect(ed25519VerifyNoble(pub, Uint8Array.of(0), signature)).toBe(false);
      expect(ed25519VerifyNoble(flip(pub, 3), message, signature)).toBe(false);
    },
  );
});

describe('AES-256-GCM (test/vectors/aes-gcm.json: GCM specification and NIST CAVS)', () => {
  const v = loadVector('aes-gcm.json');
  it('includes cases with associated data', () => {
    expect(v.cases.filter((c: any) => c.aad !== '').length).toBeGreaterThanOrEqual(2);
  });

  it.each(table(v.cases as any[], (c) => c.name))('case %s', (_n, c) => {
    const aad = c.aad === '' ? undefined : hex(c.aad);
    const sealed = aesGcmSeal(hex(c.key), hex(c.iv), hex(c.plaintext), aad);
    expect(toHex(sealed)).toBe(c.ciphertext + c.tag);
    expect(toHex(aesGcmOpen(hex(c.key), hex(c.iv), sealed, aad))).toBe(c.plaintext);
  });

  it.each(table(v.cases as any[], (c) => c.name))(
    'case %s: wrong associated data or a changed tag is refused',
    (_n, c) => {
      const sealed = hex(c.ciphertext + c.tag);
      const aad = c.aad === '' ? undefined : hex(c.aad);
      const otherAad = c.aad === '' ? Uint8Array.of(0) : undefined;
      expect(codeOf(() => aesGcmOpen(hex(c.key), hex(c.iv), sealed, otherAad))).toBe(
        'E_DECRYPT_FAILED',
      );
      sealed[sealed.length - 1]! ^= 0x80;
      expect(codeOf(() => aesGcmOpen(hex(c.key), hex(c.iv), sealed, aad))).toBe('E_DECRYPT_FAILED');
    },
  );
});

describe('seed v1 envelope (test/vectors/seed-v1-envelope.json, made with Python cryptography)', () => {
  const v = loadVector('seed-v1-envelope.json');
  const b64 = (text: string) => fromBase64(text, 'vector');

  it('records how it was made', () => {
    expect(v.generator.command).toContain('make-seed-vector.py');
    expect(v.generator.cryptography).toMatch(/^\d+\.\d+/);
  });

  it('derives the same public keys, shared secret, key and fingerprints', () => {
    expect(toBase64(x25519PublicKey(b64(v.alice.secret)))).toBe(v.alice.pub);
    expect(toBase64(x25519PublicKey(b64(v.bob.secret)))).toBe(v.bob.pub);
    expect(toBase64(x25519SharedSecret(b64(v.alice.secret), b64(v.bob.pub)))).toBe(v.shared);
    expect(toBase64(x25519SharedSecret(b64(v.bob.secret), b64(v.alice.pub)))).toBe(v.shared);
    expect(V1_HKDF_INFO).toBe('chat-e2ee');
    expect(toBase64(deriveV1Key(b64(v.alice.secret), b64(v.bob.pub)))).toBe(v.key);
    expect(toBase64(deriveV1Key(b64(v.bob.secret), b64(v.alice.pub)))).toBe(v.key);
    expect(keyFingerprint(b64(v.alice.pub))).toBe(v.alice.fingerprint);
    expect(keyFingerprint(b64(v.bob.pub))).toBe(v.bob.fingerprint);
    expect(v.alice.fingerprint).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}$/);
  });

  it('covers an empty and a non-ASCII plaintext', () => {
    const texts: string[] = v.cases.map((c: any) => c.plaintext);
    expect(texts).toContain('');
    expect(texts.some((t) => /[^\x00-\x7f]/.test(t))).toBe(true);
  });

  it.each(table(v.cases as any[], (c) => JSON.stringify(c.plaintext).slice(0, 40)))(
    'openV1 reads the Python ciphertext, sealV1 with the same nonce reproduces it: %s',
    (_p, c) => {
      const key = b64(v.key);
      expect(openV1(key, c)).toBe(c.plaintext);
      const asked: number[] = [];
      const sealed = sealV1(key, c.plaintext, (length) => {
        asked.push(length);
        return b64(c.nonce);
      });
      expect(asked).toEqual([12]);
      expect(sealed).toEqual({ alg: 'X25519+AESGCM', nonce: c.nonce, cipher: c.cipher });
    },
  );

  it('reads the seed client hello and relay lines (Python json.dumps formatting)', () => {
    const decoder = new LineDecoder(4096);
    const lines = decoder.push(utf8(v.wire.hello + v.wire.relay));
    expect(lines).toHaveLength(2);
    const hello = parseClientFrame(decodeJsonLine(lines[0]!));
    expect(hello).toEqual({ type: 'hello', user: 'alice', pub: v.alice.pub, v: 1, caps: [] });
    const relay = parseClientFrame(decodeJsonLine(lines[1]!));
    // The client's own `from` is dropped: the server sets it from the session.
    expect(relay).toEqual({
      type: 'relay',
      to: 'bob',
      alg: 'X25519+AESGCM',
      nonce: v.cases[0].nonce,
      cipher: v.cases[0].cipher,
    });
    const bobKey = deriveV1Key(b64(v.bob.secret), b64(v.alice.pub));
    expect(openV1(bobKey, relay as { nonce: string; cipher: string })).toBe(v.cases[0].plaintext);
  });
});
