import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSenderKey,
  decodePairwiseContent,
  decodeRoomContent,
  distributionOf,
  encodePairwiseContent,
  encodeRoomContent,
  type PairwiseContent,
  type RoomContent,
  senderKeyContent,
  senderKeyOf,
} from '../../../src/protocol/index.js';
import { codeOf, utf8 } from './helpers.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const SK: PairwiseContent = {
  t: 'sk',
  room: '#club',
  keyId: 4_000_000_000,
  iteration: 12,
  chainKey: KEY,
  signingKey: KEY,
};

describe('pairwise content: round trips', () => {
  it.each<[string, PairwiseContent]>([
    ['text', { t: 'text', text: 'hi bob' }],
    ['action', { t: 'action', text: 'waves' }],
    ['empty text', { t: 'text', text: '' }],
    ['text with controls and newlines', { t: 'text', text: 'a\nb\u001b[2J\u202e' }],
    ['sender key', SK],
  ])('%s', (_label, content) => {
    expect(decodePairwiseContent(encodePairwiseContent(content))).toEqual(content);
  });

  it('any text or action survives the round trip', () => {
    fc.assert(
      fc.property(fc.constantFrom('text', 'action'), fc.string(), (t, text) => {
        const content = { t, text } as PairwiseContent;
        expect(decodePairwiseContent(encodePairwiseContent(content))).toEqual(content);
      }),
    );
  });

  it('a sender key survives the trip from a distribution to its content and back', () => {
    const distribution = distributionOf(createSenderKey());
    const content = senderKeyContent('#club', distribution);
    const decoded = decodePairwiseContent(encodePairwiseContent(content));
    expect(decoded).toEqual(content);
    expect(senderKeyOf(decoded as typeof content)).toEqual(distribution);
  });

  it('keeps nothing but the known fields', () => {
    const json = JSON.stringify({ ...SK, extra: 1 }).replace('{', '{"__proto__":{"x":1},');
    const decoded = decodePairwiseContent(json);
    expect(decoded).toEqual(SK);
    expect(Object.keys(decoded)).toEqual(Object.keys(SK));
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });
});

describe('pairwise content: refused', () => {
  it.each<[string, string]>([
    ['not JSON', '{"t":'],
    ['null', 'null'],
    ['a number', '5'],
    ['no type', '{"text":"x"}'],
    ['unknown type', '{"t":"file","text":"x"}'],
    ['text that is not a string', '{"t":"text","text":5}'],
    ['sender key for no room', JSON.stringify({ ...SK, room: 'club' })],
    ['sender key id over 32 bits', JSON.stringify({ ...SK, keyId: 2 ** 32 })],
    ['negative iteration', JSON.stringify({ ...SK, iteration: -1 })],
    ['fractional iteration', JSON.stringify({ ...SK, iteration: 1.5 })],
    // Before content.ts, these two reached the room code and threw out of the frame handler.
    ['chain key that is not Base64', JSON.stringify({ ...SK, chainKey: '!!' })],
    ['signing key of 31 bytes', JSON.stringify({ ...SK, signingKey: KEY.slice(0, 40) })],
    ['missing chain key', JSON.stringify({ ...SK, chainKey: undefined })],
  ])('%s', (_label, text) => {
    expect(codeOf(() => decodePairwiseContent(text))).toBe('E_BAD_FIELD');
  });
});

describe('room content', () => {
  it.each<[string, RoomContent]>([
    ['text', { t: 'text', text: 'hola' }],
    ['action', { t: 'action', text: 'dances' }],
    ['multi-line', { t: 'text', text: 'one\ntwo' }],
  ])('round trip: %s', (_label, content) => {
    expect(decodeRoomContent(encodeRoomContent(content))).toEqual(content);
  });

  it('any text survives the round trip', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.string(), (action, text) => {
        const content: RoomContent = { t: action ? 'action' : 'text', text };
        expect(decodeRoomContent(encodeRoomContent(content))).toEqual(content);
      }),
    );
  });

  it('shows any type with a text as text (only `action` is an action)', () => {
    expect(decodeRoomContent(utf8('{"t":"sk","text":"x"}'))).toEqual({ t: 'text', text: 'x' });
    expect(decodeRoomContent(utf8('{"text":"x"}'))).toEqual({ t: 'text', text: 'x' });
  });

  it.each([
    ['no text', '{"t":"text"}'],
    ['a text that is not a string', '{"t":"text","text":1}'],
    // null threw a TypeError out of the frame handler before content.ts: one member crashed the room.
    ['null', 'null'],
    ['a number', '7'],
    ['a string', '"text"'],
  ])('is not shown: %s', (_label, json) => {
    expect(decodeRoomContent(utf8(json))).toBeUndefined();
  });

  it.each([
    ['not JSON', utf8('{"t":')],
    ['not UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d)],
  ])('is refused: %s', (_label, bytes) => {
    expect(codeOf(() => decodeRoomContent(bytes))).toBe('E_BAD_FIELD');
  });
});
