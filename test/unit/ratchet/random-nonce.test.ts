import { describe, expect, it } from 'vitest';
import {
  ALG_ROOM,
  ALG_ROOM_RN,
  ALG_V2,
  ALG_V2_RN,
  createSenderKey,
  distributionOf,
  expireSkippedKeys,
  openRoomMessage,
  pruneSenderKeySkipped,
  ratchetDecrypt,
  ratchetEncrypt,
  receiveSenderKey,
  sealRoomMessage,
} from '../../../src/protocol/index.js';
import { codeOf, utf8 } from '../protocol/helpers.js';
import { handshake } from './fixtures.js';

const enc = utf8;
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const code = codeOf;

describe('ratchet messages under a random nonce (X3DH+DR+AESGCM-RN)', () => {
  it('the same message key used twice (a sender restored from a backup) never repeats a nonce', () => {
    const { a, b } = handshake();
    const first = ratchetEncrypt(a, enc('one'));
    const again = ratchetEncrypt(a, enc('two')); // the same state: the same message key
    expect(first.alg).toBe(ALG_V2_RN);
    expect(first.header).toEqual(again.header);
    expect(first.nonce).not.toEqual(again.nonce);
    // Under the derived nonce, the same replay repeats (key, nonce): what this alg prevents.
    const old1 = ratchetEncrypt(a, enc('one'), { alg: ALG_V2 });
    const old2 = ratchetEncrypt(a, enc('two'), { alg: ALG_V2 });
    expect(old1.nonce).toEqual(old2.nonce);
    const got = ratchetDecrypt(b, first.header, first.nonce, first.ciphertext, { alg: ALG_V2_RN });
    expect(dec(got.plaintext)).toBe('one');
  });

  it('the nonce is authenticated, and neither algorithm opens the other', () => {
    const { a, b } = handshake();
    const out = ratchetEncrypt(a, enc('hi'));
    const nonce = out.nonce.slice();
    nonce[0]! ^= 1;
    expect(code(() => ratchetDecrypt(b, out.header, nonce, out.ciphertext))).toBe(
      'E_DECRYPT_FAILED',
    );
    expect(
      code(() => ratchetDecrypt(b, out.header, out.nonce, out.ciphertext, { alg: ALG_V2 })),
    ).toBe('E_DECRYPT_FAILED');
    const old = ratchetEncrypt(a, enc('hi'), { alg: ALG_V2 });
    expect(
      code(() => ratchetDecrypt(b, old.header, old.nonce, old.ciphertext, { alg: ALG_V2_RN })),
    ).toBe('E_DECRYPT_FAILED');
  });

  it('one session carries both algorithms (the older one is accepted on receive)', () => {
    let { a, b } = handshake();
    for (const [i, alg] of ([ALG_V2, ALG_V2_RN, ALG_V2, ALG_V2_RN] as const).entries()) {
      const out = ratchetEncrypt(a, enc(`m${i}`), { alg });
      a = out.state;
      const got = ratchetDecrypt(b, out.header, out.nonce, out.ciphertext, { alg });
      b = got.state;
      expect(dec(got.plaintext)).toBe(`m${i}`);
    }
  });

  it('skipped keys carry the time they were stored and expire by age', () => {
    let { a, b } = handshake();
    const sent = [];
    for (let i = 0; i < 4; i++) {
      const out = ratchetEncrypt(a, enc(`m${i}`));
      a = out.state;
      sent.push(out);
    }
    const last = sent[3]!;
    b = ratchetDecrypt(b, last.header, last.nonce, last.ciphertext, { now: 1000 }).state;
    expect(b.skipped.map((k) => k.at)).toEqual([1000, 1000, 1000]);
    expect(expireSkippedKeys(b, 1000)).toBe(0);
    const late = sent[1]!;
    const withKeys = ratchetDecrypt(b, late.header, late.nonce, late.ciphertext).state;
    expect(withKeys.skipped).toHaveLength(2);
    expect(expireSkippedKeys(b, 1001)).toBe(3);
    expect(code(() => ratchetDecrypt(b, late.header, late.nonce, late.ciphertext))).toBe(
      'E_RATCHET_DUPLICATE',
    );
  });
});

describe('room messages under a random nonce (SK1+AESGCM-RN+ED25519)', () => {
  it('seals with a random nonce by default; the derived-nonce form still opens', () => {
    const key = createSenderKey();
    const member = receiveSenderKey(distributionOf(key));
    const rn = sealRoomMessage(key, '#r', 'alice', enc('new'));
    const old = sealRoomMessage(key, '#r', 'alice', enc('old'), { alg: ALG_ROOM });
    expect(rn.alg).toBe(ALG_ROOM_RN);
    expect(dec(openRoomMessage(member, '#r', 'alice', rn))).toBe('new');
    expect(dec(openRoomMessage(member, '#r', 'alice', old))).toBe('old');
  });

  it('a relabelled algorithm does not open', () => {
    const key = createSenderKey();
    const member = receiveSenderKey(distributionOf(key));
    const rn = sealRoomMessage(key, '#r', 'alice', enc('x'));
    expect(code(() => openRoomMessage(member, '#r', 'alice', { ...rn, alg: ALG_ROOM }))).toBe(
      'E_DECRYPT_FAILED',
    );
  });

  it('skipped room keys expire by age and by a cap', () => {
    const key = createSenderKey();
    const member = receiveSenderKey(distributionOf(key));
    const sent = Array.from({ length: 6 }, (_, i) =>
      sealRoomMessage(key, '#r', 'alice', enc(`m${i}`)),
    );
    openRoomMessage(member, '#r', 'alice', sent[3]!, 100);
    openRoomMessage(member, '#r', 'alice', sent[5]!, 200);
    expect([...member.skipped.values()].map((s) => s.at)).toEqual([100, 100, 100, 200]);
    expect(pruneSenderKeySkipped(member, 150)).toBe(3);
    expect([...member.skipped.keys()]).toEqual([4]);
    expect(pruneSenderKeySkipped(member, 0, 0)).toBe(1);
    expect(code(() => openRoomMessage(member, '#r', 'alice', sent[4]!))).toBe(
      'E_RATCHET_DUPLICATE',
    );
  });
});
