import { fromBase64, toBase64 } from './base64.js';
import { ALG_V1 } from './core.js';
import {
  aesGcmOpen,
  aesGcmSeal,
  hkdfSha256,
  type RandomSource,
  secureRandom,
  x25519SharedSecret,
} from './crypto.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES } from './limits.js';

/** HKDF info string of the v1 (seed) envelope. */
export const V1_HKDF_INFO = 'chat-e2ee';

/**
 * The v1 pairwise key: HKDF-SHA256(ikm = X25519(sk, peerPub), salt = none,
 * info = "chat-e2ee", L = 32), exactly as the seed protocol defines it.
 * Costly (one X25519): derive once per peer key and cache.
 * @throws ProtocolError `E_BAD_KEY` for low-order peer keys.
 */
export function deriveV1Key(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  const shared = x25519SharedSecret(secretKey, peerPublicKey);
  return hkdfSha256(shared, undefined, V1_HKDF_INFO, 32);
}

/** The encrypted part of a v1 relay. */
export interface V1Envelope {
  alg: typeof ALG_V1;
  nonce: string;
  cipher: string;
}

const encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the message (Python's decode keeps it too).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Seals a text message in a v1 envelope: AES-256-GCM under the pairwise key, a fresh
 * random 12-byte nonce, no associated data (the seed format).
 */
export function sealV1(
  key: Uint8Array,
  text: string,
  random: RandomSource = secureRandom,
): V1Envelope {
  const nonce = random(GCM_NONCE_BYTES);
  const cipher = aesGcmSeal(key, nonce, encoder.encode(text));
  return { alg: ALG_V1, nonce: toBase64(nonce), cipher: toBase64(cipher) };
}

/**
 * Opens a v1 envelope and returns the UTF-8 text.
 * @throws ProtocolError `E_DECRYPT_FAILED` (wrong key, tampering, invalid UTF-8) or
 *   `E_BAD_FIELD` (malformed Base64).
 */
export function openV1(key: Uint8Array, envelope: { nonce: string; cipher: string }): string {
  const nonce = fromBase64(envelope.nonce, 'nonce', GCM_NONCE_BYTES);
  const cipher = fromBase64(envelope.cipher, 'cipher');
  if (cipher.length < GCM_TAG_BYTES) {
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'ciphertext shorter than the tag');
  }
  const plaintext = aesGcmOpen(key, nonce, cipher);
  try {
    return decoder.decode(plaintext);
  } catch (cause) {
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'plaintext is not UTF-8', { cause });
  }
}
