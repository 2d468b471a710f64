import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256Digest } from './crypto.js';

/**
 * The v1 key fingerprint: the first 16 hex digits of SHA-256(pub), shown as
 * `xxxxxxxx-xxxxxxxx` (the seed protocol's format).
 */
export function keyFingerprint(publicKey: Uint8Array): string {
  const hex = bytesToHex(sha256Digest(publicKey)).slice(0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8)}`;
}
