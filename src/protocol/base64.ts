import { ErrorCode, ProtocolError } from './errors.js';

/** 1 for each character of the standard alphabet (RFC 4648 §4), by char code. */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  ALPHABET[c.charCodeAt(0)] = 1;

/**
 * True when the first `end` characters are all in the alphabet. A table lookup per
 * character, on the string itself (no slice): about 3x faster than a regular expression
 * over a 43 KB chunk, which cost ~0.5 ms per chunk under load (issue 19's profile).
 */
function inAlphabet(text: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (ALPHABET[text.charCodeAt(i)] !== 1) return false;
  return true;
}

/**
 * Byte length a standard, padded, canonical Base64 string decodes to, or -1 when the string
 * is not (RFC 4648 §4, §3.5). Does not allocate the decoded bytes.
 */
export function base64DecodedLength(text: string): number {
  const length = text.length;
  if (length % 4 !== 0) return -1;
  if (length === 0) return 0;
  let padding = 0;
  if (text.charCodeAt(length - 1) === 61) padding = text.charCodeAt(length - 2) === 61 ? 2 : 1;
  const end = length - padding;
  if (!inAlphabet(text, end)) return -1;
  // Canonical only: the spare low bits of the last character before padding must be zero
  // (4 bits with "==", 2 with "="), so every byte string has exactly one accepted encoding.
  if (padding > 0 && (sextet(text.charCodeAt(end - 1)) & (padding === 2 ? 15 : 3)) !== 0) return -1;
  return (length / 4) * 3 - padding;
}

/** Value of a character already known to be in the standard alphabet. */
function sextet(code: number): number {
  if (code >= 97) return code - 71; // a-z → 26-51
  if (code >= 65) return code - 65; // A-Z → 0-25
  if (code >= 48) return code + 4; // 0-9 → 52-61
  return code === 43 ? 62 : 63; // + /
}

/** Encodes bytes as standard padded Base64. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decodes standard padded Base64, rejecting anything non-canonical, so one byte string
 * has exactly one accepted encoding.
 * @param label names the field in the error message.
 * @param length exact expected byte length, if any.
 * @throws ProtocolError `E_BAD_FIELD`.
 */
export function fromBase64(text: string, label: string, length?: number): Uint8Array {
  // Fast path (native): a string that re-encodes to itself is standard, padded, canonical
  // Base64 — any other character, missing padding or spare bits would not survive the round
  // trip. The slower character check runs only to word the error.
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new ProtocolError(
      ErrorCode.BAD_FIELD,
      base64DecodedLength(text) < 0
        ? `${label} is not standard Base64`
        : `${label} is not canonical Base64`,
    );
  }
  if (length !== undefined && bytes.length !== length) {
    throw new ProtocolError(
      ErrorCode.BAD_FIELD,
      `${label} must be ${length} bytes, got ${bytes.length}`,
    );
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
