import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSenderKey,
  distributionOf,
  MAX_SENDER_KEY_SKIP,
  openRoomMessage,
  ProtocolError,
  type RoomCiphertext,
  receiveSenderKey,
  sealRoomMessage,
} from '../../../src/protocol/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return undefined;
};

describe('room sender keys', () => {
  it('encrypts for every holder of the distribution, in and out of order, exactly once', () => {
    const alice = createSenderKey();
    const bobCopy = receiveSenderKey(distributionOf(alice));
    const messages = Array.from({ length: 6 }, (_, i) =>
      sealRoomMessage(alice, '#room', 'alice', enc(`m${i}`)),
    );
    for (const i of [0, 3, 1, 5, 2, 4])
      expect(dec(openRoomMessage(bobCopy, '#room', 'alice', messages[i]!))).toBe(`m${i}`);
    for (const m of messages)
      expect(code(() => openRoomMessage(bobCopy, '#room', 'alice', m))).toBe('E_RATCHET_DUPLICATE');
  });

  it('rejects forged senders, relabelled rooms or senders, and tampering', () => {
    const alice = createSenderKey();
    const mallory = createSenderKey();
    const bobCopy = receiveSenderKey(distributionOf(alice));
    const forged = sealRoomMessage(
      {
        ...mallory,
        keyId: alice.keyId,
        chainKey: alice.chainKey.slice(),
        iteration: alice.iteration,
      },
      '#room',
      'alice',
      enc('I am alice'),
    );
    expect(code(() => openRoomMessage(bobCopy, '#room', 'alice', forged))).toBe('E_BAD_KEY');
    const real = sealRoomMessage(alice, '#room', 'alice', enc('hi'));
    expect(code(() => openRoomMessage(bobCopy, '#other', 'alice', real))).toBe('E_BAD_KEY');
    expect(code(() => openRoomMessage(bobCopy, '#room', 'mallory', real))).toBe('E_BAD_KEY');
    const flipped: RoomCiphertext = {
      ...real,
      cipher: real.cipher.map((b, i) => (i === 0 ? b ^ 1 : b)),
    };
    expect(code(() => openRoomMessage(bobCopy, '#room', 'alice', flipped))).toBe('E_BAD_KEY');
    expect(dec(openRoomMessage(bobCopy, '#room', 'alice', real))).toBe('hi');
  });

  it('a joiner gets the chain at its current iteration and cannot read earlier messages', () => {
    const alice = createSenderKey();
    const early = sealRoomMessage(alice, '#room', 'alice', enc('before you joined'));
    const joiner = receiveSenderKey(distributionOf(alice));
    const later = sealRoomMessage(alice, '#room', 'alice', enc('after'));
    expect(code(() => openRoomMessage(joiner, '#room', 'alice', early))).toBe(
      'E_RATCHET_DUPLICATE',
    );
    expect(dec(openRoomMessage(joiner, '#room', 'alice', later))).toBe('after');
  });

  it('after a rotation, a departed member holding the old chain decrypts nothing new', () => {
    let alice = createSenderKey();
    const departed = receiveSenderKey(distributionOf(alice));
    const stays = receiveSenderKey(distributionOf(alice));
    sealRoomMessage(alice, '#room', 'alice', enc('while together'));
    alice = createSenderKey(); // rotation on leave: a new chain, new signing key
    const stayNew = receiveSenderKey(distributionOf(alice));
    const secret = sealRoomMessage(alice, '#room', 'alice', enc('after they left'));
    expect(code(() => openRoomMessage(departed, '#room', 'alice', secret))).toBe(
      'E_RATCHET_NO_SESSION',
    );
    expect(
      code(() => openRoomMessage({ ...departed, keyId: alice.keyId }, '#room', 'alice', secret)),
    ).toBe('E_BAD_KEY');
    expect(dec(openRoomMessage(stayNew, '#room', 'alice', secret))).toBe('after they left');
    void stays;
  });

  it('refuses jumps beyond the skip bound without changing state', () => {
    const alice = createSenderKey();
    const bobCopy = receiveSenderKey(distributionOf(alice));
    let last: RoomCiphertext | undefined;
    for (let i = 0; i <= MAX_SENDER_KEY_SKIP + 1; i++)
      last = sealRoomMessage(alice, '#r', 'alice', enc(`${i}`));
    const before = bobCopy.iteration;
    expect(code(() => openRoomMessage(bobCopy, '#r', 'alice', last!))).toBe(
      'E_RATCHET_TOO_MANY_SKIPPED',
    );
    expect(bobCopy.iteration).toBe(before);
  });

  it('property: any delivery order within the bound decrypts each message exactly once', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), (picks) => {
        const alice = createSenderKey();
        const copy = receiveSenderKey(distributionOf(alice));
        const sent = picks.map((_, i) => ({
          text: `m${i}`,
          message: sealRoomMessage(alice, '#p', 'alice', enc(`m${i}`)),
        }));
        const queue = [...sent, ...sent]; // every message delivered twice
        const seen = new Set<string>();
        for (const pick of picks) {
          while (queue.length > 0) {
            const [item] = queue.splice(pick % queue.length, 1);
            try {
              const text = dec(openRoomMessage(copy, '#p', 'alice', item!.message));
              expect(text).toBe(item!.text);
              expect(seen.has(text)).toBe(false);
              seen.add(text);
            } catch (error) {
              expect((error as ProtocolError).code).toBe('E_RATCHET_DUPLICATE');
              expect(seen.has(item!.text)).toBe(true);
            }
          }
        }
        expect(seen.size).toBe(sent.length);
      }),
      { numRuns: 40 },
    );
  });
});
