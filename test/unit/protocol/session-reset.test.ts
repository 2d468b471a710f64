import { describe, expect, it } from 'vitest';
import {
  ALG_RESET,
  fromBase64,
  generateIdentityKeyPair,
  readReset,
  secureRandom,
  signReset,
  toBase64,
} from '../../../src/protocol/index.js';

const alice = generateIdentityKeyPair();
const bob = generateIdentityKeyPair();
const ALICE = toBase64(alice.publicKey);
const BOB = toBase64(bob.publicKey);
const NOW = 1_800_000_000_000;

describe('session reset notices', () => {
  it('round trip: what bob signs for alice, alice reads as bound to that session', () => {
    const ratchetKey = secureRandom(32);
    const envelope = signReset(bob, ALICE, ratchetKey, NOW);
    expect(envelope.alg).toBe(ALG_RESET);
    expect(fromBase64(envelope.nonce, 'nonce')).toEqual(new Uint8Array(12));
    expect(fromBase64(envelope.cipher, 'cipher')).toEqual(new Uint8Array(16));
    expect(readReset(envelope.header, [ALICE, BOB], alice.publicKey)).toEqual({
      kind: 'bound',
      time: NOW,
      ratchetKey,
      sender: BOB,
    });
  });

  it('is bound to both identities: another sender, another receiver or a changed byte is invalid', () => {
    const envelope = signReset(bob, ALICE, secureRandom(32), NOW);
    const carol = generateIdentityKeyPair();
    expect(readReset(envelope.header, [toBase64(carol.publicKey)], alice.publicKey).kind).toBe(
      'invalid',
    );
    expect(readReset(envelope.header, [BOB], carol.publicKey).kind).toBe('invalid');
    const bytes = fromBase64(envelope.header, 'header');
    bytes[3]! ^= 1; // the time
    expect(readReset(toBase64(bytes), [BOB], alice.publicKey).kind).toBe('invalid');
  });

  it('reads the older unbound form as legacy, and anything else as invalid', () => {
    expect(readReset(toBase64(new Uint8Array(72)), [BOB], alice.publicKey)).toEqual({
      kind: 'legacy',
    });
    expect(readReset(undefined, [BOB], alice.publicKey).kind).toBe('invalid');
    expect(readReset('not base64!', [BOB], alice.publicKey).kind).toBe('invalid');
    expect(readReset(toBase64(new Uint8Array(103)), [BOB], alice.publicKey).kind).toBe('invalid');
    expect(
      readReset(signReset(bob, ALICE, secureRandom(32), NOW).header, [], alice.publicKey),
    ).toEqual({ kind: 'invalid' });
  });
});
