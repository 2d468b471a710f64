import { describe, expect, it } from 'vitest';
import {
  formatSafetyNumber,
  generateIdentityKeyPair,
  normalizeSafetyNumber,
  partyDigits,
  safetyNumber,
  safetyNumbersEqual,
} from '../../../src/protocol/index.js';

describe('safety numbers (Signal numeric fingerprint construction)', () => {
  it('matches an independent computation (Python hashlib, see comment)', () => {
    // python3: h=b'\0\0'+key+b'alice'; 5200× h=sha512(h+key); six 5-byte chunks mod 1e5
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(partyDigits(key, 'alice')).toBe('309956685010881989143608686589');
    expect(partyDigits(key, 'ALICE')).toBe('309956685010881989143608686589');
  });

  it('is the same on both sides and changes when any key or name changes', () => {
    const alice = { identityKey: generateIdentityKeyPair().publicKey, name: 'alice' };
    const bob = { identityKey: generateIdentityKeyPair().publicKey, name: 'bob' };
    const number = safetyNumber(alice, bob);
    expect(number).toMatch(/^\d{60}$/);
    expect(safetyNumber(bob, alice)).toBe(number);
    const mallory = { identityKey: generateIdentityKeyPair().publicKey, name: 'bob' };
    expect(safetyNumber(alice, mallory)).not.toBe(number);
    expect(
      safetyNumber({ ...alice, identityKey: generateIdentityKeyPair().publicKey }, bob),
    ).not.toBe(number);
    expect(safetyNumber(alice, { ...bob, name: 'bobby' })).not.toBe(number);
  });

  it('formats as 12 groups of 5 and parses typed numbers back', () => {
    const digits = '0123456789'.repeat(6);
    const formatted = formatSafetyNumber(digits);
    expect(formatted.split(' ')).toHaveLength(12);
    expect(normalizeSafetyNumber(formatted)).toBe(digits);
    expect(normalizeSafetyNumber(`${digits.slice(0, 30)}\n${digits.slice(30)}`)).toBe(digits);
    expect(normalizeSafetyNumber(digits.slice(1))).toBeUndefined();
    expect(normalizeSafetyNumber(`${digits.slice(1)}x`)).toBeUndefined();
    expect(safetyNumbersEqual(digits, digits)).toBe(true);
    expect(safetyNumbersEqual(digits, `${digits.slice(0, 59)}0`)).toBe(digits.endsWith('0'));
  });
});
