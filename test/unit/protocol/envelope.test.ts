import { describe, expect, it } from 'vitest';
import {
  aesGcmOpen,
  aesGcmSeal,
  deriveV1Key,
  fromBase64,
  generateX25519KeyPair,
  openV1,
  ProtocolError,
  sealV1,
  toBase64,
  x25519SharedSecret,
} from '../../../src/protocol/index.js';
import { codeOf, hex, loadVector, toHex } from './helpers.js';

// Fixed keys (the seed vector's), so failures are reproducible.
const seed = loadVector('seed-v1-envelope.json');
const aliceSecret = fromBase64(seed.alice.secret, 'vector');
const bobSecret = fromBase64(seed.bob.secret, 'vector');
const alicePub = fromBase64(seed.alice.pub, 'vector');
const bobPub = fromBase64(seed.bob.pub, 'vector');
const key = deriveV1Key(aliceSecret, bobPub);
const TEXT = 'attack at dawn';
const fixedNonce = () => Uint8Array.from({ length: 12 }, (_, i) => i * 7);
const envelope = sealV1(key, TEXT, fixedNonce);

const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');
const bytesOf = (b64: string) => Buffer.from(b64, 'base64');
const flipBit = (b64: string, bit: number) => {
  const bytes = bytesOf(b64);
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  return bytes.toString('base64');
};

/** Seals raw bytes as a v1 envelope, for plaintexts sealV1 cannot produce. */
const sealRaw = (plaintext: Uint8Array) => ({
  nonce: toBase64(fixedNonce()),
  cipher: toBase64(aesGcmSeal(key, fixedNonce(), plaintext)),
});

describe('v1 envelope: the right key opens it', () => {
  it('both sides derive the same key; the envelope has the seed shape', () => {
    expect(deriveV1Key(bobSecret, alicePub)).toEqual(key);
    expect(envelope.alg).toBe('X25519+AESGCM');
    expect(bytesOf(envelope.nonce)).toHaveLength(12);
    expect(bytesOf(envelope.cipher)).toHaveLength(utf8Length(TEXT) + 16);
    expect(openV1(deriveV1Key(bobSecret, alicePub), envelope)).toBe(TEXT);
  });

  it('draws a fresh 12-byte nonce from the secure source by default', () => {
    const a = sealV1(key, TEXT);
    const b = sealV1(key, TEXT);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.cipher).not.toBe(b.cipher);
    expect(openV1(key, a)).toBe(TEXT);
    expect(openV1(key, b)).toBe(TEXT);
  });

  it('keeps a leading byte order mark (the seed client decodes with Python, which keeps it)', () => {
    expect(openV1(key, sealV1(key, '\ufeffhi'))).toBe('\ufeffhi');
    expect(openV1(key, sealRaw(Uint8Array.of(0xef, 0xbb, 0xbf, 0x68)))).toBe('\ufeffh');
  });
});

describe('v1 envelope failures: E_DECRYPT_FAILED', () => {
  const nonceBits = 12 * 8;
  const cipherBits = bytesOf(envelope.cipher).length * 8;
  const tagStart = (bytesOf(envelope.cipher).length - 16) * 8;

  it(`every single-bit flip of the nonce (${nonceBits} bits) is refused`, () => {
    for (let bit = 0; bit < nonceBits; bit++) {
      expect(codeOf(() => openV1(key, { ...envelope, nonce: flipBit(envelope.nonce, bit) }))).toBe(
        'E_DECRYPT_FAILED',
      );
    }
  });

  it(`every single-bit flip of the ciphertext and of the tag (${cipherBits} bits) is refused`, () => {
    for (let bit = 0; bit < cipherBits; bit++) {
      const cipher = flipBit(envelope.cipher, bit);
      const where = bit < tagStart ? 'ciphertext' : 'tag';
      expect(
        codeOf(() => openV1(key, { ...envelope, cipher })),
        `${where} bit ${bit}`,
      ).toBe('E_DECRYPT_FAILED');
    }
  });

  it('a wrong key is refused', () => {
    const mallory = generateX25519KeyPair();
    expect(codeOf(() => openV1(deriveV1Key(mallory.secretKey, bobPub), envelope))).toBe(
      'E_DECRYPT_FAILED',
    );
    expect(codeOf(() => openV1(new Uint8Array(32), envelope))).toBe('E_DECRYPT_FAILED');
    // the raw X25519 output is not the key: the HKDF step matters
    expect(codeOf(() => openV1(x25519SharedSecret(aliceSecret, bobPub), envelope))).toBe(
      'E_DECRYPT_FAILED',
    );
  });

  it.each([1, 4, 8, 12, 15, 16])('a tag truncated by %i bytes is refused', (cut) => {
    const cipher = bytesOf(envelope.cipher).subarray(0, -cut).toString('base64');
    expect(codeOf(() => openV1(key, { ...envelope, cipher }))).toBe('E_DECRYPT_FAILED');
  });

  it.each([4, 8, 12])(
    'a correct but %i-byte tag is refused (Node 20 would accept it without authTagLength, DEP0182)',
    (tagLength) => {
      for (const text of ['', TEXT]) {
        const sealed = bytesOf(sealV1(key, text, fixedNonce).cipher);
        const body = sealed.subarray(0, sealed.length - 16);
        const shortTag = sealed.subarray(sealed.length - 16, sealed.length - 16 + tagLength);
        const cipher = Buffer.concat([body, shortTag]).toString('base64');
        expect(codeOf(() => openV1(key, { nonce: envelope.nonce, cipher }))).toBe(
          'E_DECRYPT_FAILED',
        );
        expect(codeOf(() => aesGcmOpen(key, fixedNonce(), Buffer.concat([body, shortTag])))).toBe(
          'E_DECRYPT_FAILED',
        );
      }
    },
  );

  it.each([
    ['a lone continuation byte', [0x80]],
    ['an invalid lead byte', [0xff, 0xfe]],
    ['a truncated sequence', [0x68, 0x69, 0xe2, 0x82]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('a plaintext that is not UTF-8 (%s) is refused', (_label, bytes) => {
    expect(codeOf(() => openV1(key, sealRaw(Uint8Array.from(bytes))))).toBe('E_DECRYPT_FAILED');
  });

  it('the error carries neither key nor plaintext', () => {
    const plaintext = 'secret plaintext 1234';
    const sealed = sealV1(key, plaintext, fixedNonce);
    const wrongKey = deriveV1Key(generateX25519KeyPair().secretKey, bobPub);
    let caught: unknown;
    try {
      openV1(wrongKey, sealed);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProtocolError);
    const text = `${(caught as Error).message} ${String((caught as Error).cause)}`;
    for (const secret of [
      plaintext,
      toHex(key),
      toBase64(key),
      toHex(wrongKey),
      toBase64(wrongKey),
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('v1 envelope: malformed fields are E_BAD_FIELD', () => {
  it.each([
    ['nonce not Base64', { ...envelope, nonce: '!!!!!!!!!!!!!!!!' }],
    ['nonce of 11 bytes', { ...envelope, nonce: toBase64(new Uint8Array(11)) }],
    ['nonce of 16 bytes', { ...envelope, nonce: toBase64(new Uint8Array(16)) }],
    ['cipher unpadded', { ...envelope, cipher: toBase64(new Uint8Array(20)).replace(/=+$/, '') }],
    ['cipher not canonical', { ...envelope, cipher: 'AB==' }],
  ])('%s', (_label, bad) => {
    expect(codeOf(() => openV1(key, bad))).toBe('E_BAD_FIELD');
  });
});

describe('v1 key derivation: low-order and malformed peer keys are E_BAD_KEY', () => {
  // Points of order 1, 2, 4 and 8 (and non-canonical encodings of them): X25519 with any
  // clamped scalar gives the all-zero secret (RFC 7748 §6.1 says to check for it).
  it.each([
    ['zero', '0000000000000000000000000000000000000000000000000000000000000000'],
    ['one', '0100000000000000000000000000000000000000000000000000000000000000'],
    ['order 8 (a)', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'],
    ['order 8 (b)', '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'],
    ['p - 1 (order 2)', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
    ['p (= 0)', 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
    ['p + 1 (= 1)', 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
    [
      'order 8 (a) with the top bit set',
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880',
    ],
    [
      'zero with the top bit set',
      '0000000000000000000000000000000000000000000000000000000000000080',
    ],
  ])('%s', (_label, pub) => {
    expect(codeOf(() => deriveV1Key(aliceSecret, hex(pub)))).toBe('E_BAD_KEY');
    expect(codeOf(() => x25519SharedSecret(aliceSecret, hex(pub)))).toBe('E_BAD_KEY');
  });

  it.each([0, 31, 33, 64])('a %i-byte peer key', (length) => {
    expect(codeOf(() => deriveV1Key(aliceSecret, new Uint8Array(length).fill(9)))).toBe(
      'E_BAD_KEY',
    );
  });
});
