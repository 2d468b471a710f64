import { createCipheriv, createDecipheriv } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, X25519_KEY_BYTES } from './limits.js';

/** A source of cryptographically secure random bytes (injectable for test vectors). */
export type RandomSource = (length: number) => Uint8Array;

/** The default random source: `crypto.getRandomValues` through noble. */
export const secureRandom: RandomSource = (length) => randomBytes(length);

export interface X25519KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** Generates an X25519 key pair (RFC 7748). */
export function generateX25519KeyPair(random: RandomSource = secureRandom): X25519KeyPair {
  const secretKey = random(X25519_KEY_BYTES);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** The X25519 public key of a secret key (RFC 7748 §6.1). */
export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

/**
 * X25519 shared secret (RFC 7748 §6.1). Low-order peer keys, which give an all-zero
 * secret, are rejected.
 * @throws ProtocolError `E_BAD_KEY` (cause kept; no key bytes in the message).
 */
export function x25519SharedSecret(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  if (peerPublicKey.length !== X25519_KEY_BYTES) {
    throw new ProtocolError(ErrorCode.BAD_KEY, 'peer X25519 key must be 32 bytes');
  }
  try {
    return x25519.getSharedSecret(secretKey, peerPublicKey);
  } catch (cause) {
    throw new ProtocolError(ErrorCode.BAD_KEY, 'peer X25519 key is invalid (low order)', {
      cause,
    });
  }
}

/** HKDF-SHA256 (RFC 5869); `salt` undefined means a zero-filled salt (§2.2). */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array | string,
  length: number,
): Uint8Array {
  const infoBytes = typeof info === 'string' ? new TextEncoder().encode(info) : info;
  return hkdf(sha256, ikm, salt, infoBytes, length);
}

/**
 * AES-256-GCM encryption (node:crypto); returns ciphertext || 16-byte tag.
 * @param aad associated data, authenticated but not encrypted.
 */
export function aesGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad?: Uint8Array,
): Uint8Array {
  if (key.length !== 32) throw new RangeError('AES-256-GCM key must be 32 bytes');
  if (nonce.length !== GCM_NONCE_BYTES) throw new RangeError('AES-GCM nonce must be 12 bytes');
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  if (aad !== undefined) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(body.length + final.length + tag.length);
  out.set(body, 0);
  out.set(final, body.length);
  out.set(tag, body.length + final.length);
  return out;
}

/**
 * AES-256-GCM decryption of ciphertext || 16-byte tag. The tag length is fixed at 16
 * (Node 20 would otherwise accept truncated tags, DEP0182).
 * @throws ProtocolError `E_DECRYPT_FAILED` on a wrong key, tampering or a short input.
 */
export function aesGcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad?: Uint8Array,
): Uint8Array {
  if (key.length !== 32) throw new RangeError('AES-256-GCM key must be 32 bytes');
  if (nonce.length !== GCM_NONCE_BYTES || sealed.length < GCM_TAG_BYTES) {
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'ciphertext or nonce has a wrong length');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, {
      authTagLength: GCM_TAG_BYTES,
    });
    if (aad !== undefined) decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES));
    const body = decipher.update(sealed.subarray(0, sealed.length - GCM_TAG_BYTES));
    const final = decipher.final();
    if (final.length === 0) return new Uint8Array(body.buffer, body.byteOffset, body.length);
    const out = new Uint8Array(body.length + final.length);
    out.set(body, 0);
    out.set(final, body.length);
    return out;
  } catch (cause) {
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'message authentication failed', {
      cause,
    });
  }
}

/** SHA-256 digest. */
export function sha256Digest(data: Uint8Array): Uint8Array {
  return sha256(data);
}
