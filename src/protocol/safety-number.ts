import { sha512 } from '@noble/hashes/sha2.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { ED25519_PUBLIC_KEY_BYTES } from './limits.js';
import { foldName } from './names.js';

/** Iterations of SHA-512 per party, as in Signal's NumericFingerprintGenerator. */
const SAFETY_NUMBER_ITERATIONS = 5200;
/** Version of our safety-number construction (2 bytes, big-endian, hashed in). */
const SAFETY_NUMBER_VERSION = 0;

const encoder = new TextEncoder();

/**
 * One party's 30 digits: hash = SHA-512(version || key || stableId), then 5200 times
 * hash = SHA-512(hash || key); the first 30 bytes as six 5-byte big-endian integers, each
 * mod 100000 and zero-padded to 5 digits (Signal's displayable fingerprint construction).
 * `stableId` is the lowercase user name.
 */
export function partyDigits(identityKey: Uint8Array, stableId: string): string {
  if (identityKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new ProtocolError(ErrorCode.BAD_KEY, 'identity key must be 32 bytes');
  }
  const id = encoder.encode(foldName(stableId));
  // Iteration 1 hashes version || key || id || key; later ones hash previous || key.
  const first = new Uint8Array(2 + identityKey.length + id.length + identityKey.length);
  first[0] = (SAFETY_NUMBER_VERSION >> 8) & 0xff;
  first[1] = SAFETY_NUMBER_VERSION & 0xff;
  first.set(identityKey, 2);
  first.set(id, 2 + identityKey.length);
  first.set(identityKey, 2 + identityKey.length + id.length);
  let hash = sha512(first);
  const input = new Uint8Array(64 + identityKey.length);
  input.set(identityKey, 64);
  for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++) {
    input.set(hash, 0);
    hash = sha512(input);
  }
  let digits = '';
  for (let offset = 0; offset < 30; offset += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) value = value * 256 + hash[offset + j]!;
    digits += String(value % 100000).padStart(5, '0');
  }
  return digits;
}

/**
 * The 60-digit safety number of a conversation: both parties' 30 digits, the smaller
 * string first, so both sides compute the same number.
 */
export function safetyNumber(
  a: { identityKey: Uint8Array; name: string },
  b: { identityKey: Uint8Array; name: string },
): string {
  const left = partyDigits(a.identityKey, a.name);
  const right = partyDigits(b.identityKey, b.name);
  return left <= right ? left + right : right + left;
}

/** Formats 60 digits as 12 groups of 5 separated by spaces. */
export function formatSafetyNumber(digits: string): string {
  return digits.match(/\d{5}/g)?.join(' ') ?? digits;
}

/** Strips spaces, dashes and line breaks from a typed safety number; undefined if not 60 digits. */
export function normalizeSafetyNumber(typed: string): string | undefined {
  const digits = typed.replace(/[\s-]/g, '');
  return /^\d{60}$/.test(digits) ? digits : undefined;
}

/** Compares two 60-digit numbers without early exit. */
export function safetyNumbersEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
