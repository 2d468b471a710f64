import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base64DecodedLength,
  deriveV1Key,
  encodeRelayDelivery,
  fromBase64,
  generateX25519KeyPair,
  openV1,
  ProtocolError,
  parseClientFrame,
  parseServerFrame,
  readDirectory,
  sealV1,
} from '../../../src/protocol/index.js';

const PUB = Buffer.alloc(32, 1).toString('base64');
const NONCE = Buffer.alloc(12, 2).toString('base64');
const CIPHER = Buffer.alloc(20, 3).toString('base64');
const relay = { type: 'relay', to: 'bob', alg: 'X25519+AESGCM', nonce: NONCE, cipher: CIPHER };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return undefined;
}

describe('parseClientFrame: valid frames', () => {
  it.each([
    [
      { type: 'hello', user: 'alice', pub: PUB },
      { type: 'hello', user: 'alice', pub: PUB, v: 1, caps: [] },
    ],
    [
      { type: 'hello', user: 'A.b_c-9', pub: PUB, extra: 1 },
      { type: 'hello', user: 'A.b_c-9', pub: PUB, v: 1, caps: [] },
    ],
    [{ type: 'list' }, { type: 'list' }],
    [
      { type: 'chat', text: '' },
      { type: 'chat', text: '' },
    ],
    [
      { type: 'chat', text: 'hi \u001b[2J' },
      { type: 'chat', text: 'hi \u001b[2J' },
    ],
    [relay, relay],
    [
      { ...relay, id: 'abc-1', from: 'mallory' },
      { ...relay, id: 'abc-1' },
    ],
    [
      { ...relay, header: 'AAAA' },
      { ...relay, header: 'AAAA' },
    ],
    [{ type: 'ping' }, { type: 'ping' }],
  ])('%j', (frame, parsed) => {
    expect(parseClientFrame(frame as Record<string, unknown>)).toEqual(parsed);
  });
});

describe('parseClientFrame: invalid frames', () => {
  it.each([
    ['missing type', { user: 'a' }, 'E_UNKNOWN_TYPE'],
    ['numeric type', { type: 1 }, 'E_UNKNOWN_TYPE'],
    ['unknown type', { type: 'dance' }, 'E_UNKNOWN_TYPE'],
    ['empty name', { type: 'hello', user: '', pub: PUB }, 'E_BAD_NAME'],
    ['33-character name', { type: 'hello', user: 'a'.repeat(33), pub: PUB }, 'E_BAD_NAME'],
    ['space in name', { type: 'hello', user: 'a b', pub: PUB }, 'E_BAD_NAME'],
    ['control character in name', { type: 'hello', user: 'a\u0007', pub: PUB }, 'E_BAD_NAME'],
    ['Cyrillic homoglyph', { type: 'hello', user: 'аlice', pub: PUB }, 'E_BAD_NAME'],
    ['bidi mark', { type: 'hello', user: 'alice\u202e', pub: PUB }, 'E_BAD_NAME'],
    ['numeric name', { type: 'hello', user: 7, pub: PUB }, 'E_BAD_FIELD'],
    [
      'pub too short',
      { type: 'hello', user: 'a', pub: Buffer.alloc(31).toString('base64') },
      'E_BAD_FIELD',
    ],
    ['pub not Base64', { type: 'hello', user: 'a', pub: '!'.repeat(44) }, 'E_BAD_FIELD'],
    ['pub unpadded', { type: 'hello', user: 'a', pub: PUB.replace(/=+$/, '') }, 'E_BAD_FIELD'],
    ['pub as array', { type: 'hello', user: 'a', pub: [1, 2] }, 'E_BAD_FIELD'],
    ['v2 hello without proofs', { type: 'hello', user: 'a', pub: PUB, v: 2 }, 'E_BAD_FIELD'],
    [
      'huge version',
      { type: 'hello', user: 'a', pub: PUB, v: Number.POSITIVE_INFINITY },
      'E_BAD_FIELD',
    ],
    ['caps not an array', { type: 'hello', user: 'a', pub: PUB, caps: 'x' }, 'E_BAD_FIELD'],
    ['chat without text', { type: 'chat' }, 'E_BAD_FIELD'],
    ['chat text as object', { type: 'chat', text: { a: 1 } }, 'E_BAD_FIELD'],
    ['relay to bad name', { ...relay, to: 'b b' }, 'E_BAD_NAME'],
    [
      'relay nonce 11 bytes',
      { ...relay, nonce: Buffer.alloc(11).toString('base64') },
      'E_BAD_FIELD',
    ],
    [
      'relay cipher 15 bytes',
      { ...relay, cipher: Buffer.alloc(15).toString('base64') },
      'E_BAD_FIELD',
    ],
    ['relay alg with quote', { ...relay, alg: 'a"b' }, 'E_BAD_FIELD'],
    ['relay id too long', { ...relay, id: 'x'.repeat(65) }, 'E_BAD_FIELD'],
    ['relay id with quote', { ...relay, id: 'a"b' }, 'E_BAD_FIELD'],
    [
      'relay header too big',
      { ...relay, header: Buffer.alloc(600).toString('base64') },
      'E_BAD_FIELD',
    ],
  ])('%s', (_label, frame, expected) => {
    expect(code(() => parseClientFrame(frame as Record<string, unknown>))).toBe(expected);
  });
});

describe('parseServerFrame', () => {
  it('reads every server frame and tolerates unknown ones', () => {
    expect(parseServerFrame({ type: 'welcome', users: { alice: PUB } })).toEqual({
      type: 'welcome',
      users: new Map([['alice', PUB]]),
      v: 1,
      caps: [],
    });
    expect(parseServerFrame({ type: 'users', users: {} })).toEqual({
      type: 'users',
      users: new Map(),
    });
    expect(parseServerFrame({ type: 'server', text: 'echo: x' })).toEqual({
      type: 'server',
      text: 'echo: x',
    });
    expect(parseServerFrame({ ...relay, from: 'alice' })).toEqual({ ...relay, from: 'alice' });
    expect(parseServerFrame({ type: 'error', code: 'E_X', text: 't', ref: 'r' })).toEqual({
      type: 'error',
      code: 'E_X',
      text: 't',
      ref: 'r',
    });
    expect(parseServerFrame({ type: 'error' })).toEqual({ type: 'error', text: '' });
    expect(parseServerFrame({ type: 'ack', id: 'a1', queued: true })).toEqual({
      type: 'ack',
      id: 'a1',
      queued: true,
    });
    expect(parseServerFrame({ type: 'presence', event: 'leave', user: 'bob' })).toEqual({
      type: 'presence',
      event: 'leave',
      user: 'bob',
    });
    expect(parseServerFrame({ type: 'from-the-future', x: 1 })).toEqual({
      type: 'unknown',
      rawType: 'from-the-future',
    });
    expect(code(() => parseServerFrame({ ...relay, from: 'a b' }))).toBe('E_BAD_NAME');
    expect(code(() => parseServerFrame({ type: 'presence', event: 'join', user: 'bob' }))).toBe(
      'E_BAD_FIELD',
    );
  });

  it('skips bad directory entries but keeps the others', () => {
    const { users, skipped } = readDirectory({
      alice: PUB,
      'b b': PUB,
      carol: 'short',
      dave: 5,
      erin: PUB,
    });
    expect([...users.keys()]).toEqual(['alice', 'erin']);
    expect(skipped).toBe(3);
  });
});

describe('encodeRelayDelivery', () => {
  it('produces JSON that parses back to the same fields, with the server-set from', () => {
    const line = encodeRelayDelivery(
      'alice',
      { ...relay, type: 'relay', id: 'x-1', header: 'AAAA' } as never,
      7,
    );
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      ...relay,
      from: 'alice',
      id: 'x-1',
      header: 'AAAA',
      seq: 7,
    });
  });
});

describe('Base64', () => {
  it.each([
    ['', 0],
    ['AA==', 1],
    ['AAA=', 2],
    ['AAAA', 3],
    ['AAA', -1],
    ['A===', -1],
    ['AA=A', -1],
    ['AA-_', -1],
    ['AA\nA', -1],
  ])('decoded length of %j is %i', (text, length) => {
    expect(base64DecodedLength(text)).toBe(length);
  });
  it('refuses non-canonical encodings', () => {
    expect(code(() => fromBase64('AB==', 'x'))).toBe('E_BAD_FIELD');
    expect(fromBase64('AA==', 'x')).toEqual(Uint8Array.of(0));
  });
});

describe('v1 envelope failures', () => {
  const a = generateX25519KeyPair();
  const b = generateX25519KeyPair();
  const key = deriveV1Key(a.secretKey, b.publicKey);
  const envelope = sealV1(key, 'attack at dawn');
  const flip = (b64: string, index: number) => {
    const bytes = Buffer.from(b64, 'base64');
    bytes[index]! ^= 1;
    return bytes.toString('base64');
  };
  it.each([
    ['flipped ciphertext bit', { ...envelope, cipher: flip(envelope.cipher, 0) }],
    [
      'flipped tag bit',
      {
        ...envelope,
        cipher: flip(envelope.cipher, Buffer.from(envelope.cipher, 'base64').length - 1),
      },
    ],
    ['flipped nonce bit', { ...envelope, nonce: flip(envelope.nonce, 5) }],
    [
      'truncated 4-byte tag',
      {
        ...envelope,
        cipher: Buffer.from(envelope.cipher, 'base64').subarray(0, -12).toString('base64'),
      },
    ],
  ])('%s → E_DECRYPT_FAILED', (_label, tampered) => {
    expect(code(() => openV1(key, tampered))).toBe('E_DECRYPT_FAILED');
  });
  it('wrong key → E_DECRYPT_FAILED', () => {
    expect(
      code(() => openV1(deriveV1Key(a.secretKey, generateX25519KeyPair().publicKey), envelope)),
    ).toBe('E_DECRYPT_FAILED');
  });
  it('low-order peer key → E_BAD_KEY', () => {
    expect(code(() => deriveV1Key(a.secretKey, new Uint8Array(32)))).toBe('E_BAD_KEY');
  });
  it('property: seal then open returns any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'grapheme' }), (text) => {
        expect(openV1(deriveV1Key(b.secretKey, a.publicKey), sealV1(key, text))).toBe(text);
      }),
      { numRuns: 100 },
    );
  });
});
