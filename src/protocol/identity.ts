import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { type RandomSource, secureRandom, sha256Digest } from './crypto.js';
import { ErrorCode, ProtocolError } from './errors.js';

/** Ed25519 key lengths (RFC 8032). */
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SECRET_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/**
 * Domain-separation prefix of the signature over a user's X25519 key (`pub`), so the
 * signature can never be confused with any other message the identity key signs.
 */
export const PREKEY_SIGNATURE_CONTEXT = 'securechat/v2/x25519-pub\0';

export interface IdentityKeyPair {
  /** Ed25519 seed (RFC 8032 §5.1.5 secret key). */
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

const encoder = new TextEncoder();

function concat(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Generates a long-term Ed25519 identity key pair. */
export function generateIdentityKeyPair(random: RandomSource = secureRandom): IdentityKeyPair {
  const secretKey = random(ED25519_SECRET_KEY_BYTES);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** The Ed25519 public key of a secret key (RFC 8032 §5.1.5). */
export function identityPublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

/** Signs `message` with the identity key (RFC 8032 Ed25519, deterministic). */
export function ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}

/**
 * Verifies an Ed25519 signature (noble, RFC 8032 §5.1.7, strict encoding). Returns false
 * for any malformed input instead of throwing.
 */
export function ed25519VerifyNoble(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** The message signed to vouch for an X25519 key: context || pub. */
export function prekeySignatureMessage(x25519PublicKey: Uint8Array): Uint8Array {
  return concat(encoder.encode(PREKEY_SIGNATURE_CONTEXT), x25519PublicKey);
}

/** Signs an X25519 public key with the identity key (the "signed prekey" of X3DH §2.5). */
export function signPrekey(identitySecretKey: Uint8Array, x25519PublicKey: Uint8Array): Uint8Array {
  return ed25519Sign(identitySecretKey, prekeySignatureMessage(x25519PublicKey));
}

/** Checks an X25519 key's signature by an identity key. */
export function verifyPrekeySignature(
  identityPublicKey: Uint8Array,
  x25519PublicKey: Uint8Array,
  signature: Uint8Array,
): boolean {
  return ed25519VerifyNoble(identityPublicKey, prekeySignatureMessage(x25519PublicKey), signature);
}

/**
 * The X25519 form of an Ed25519 identity public key (birational map, RFC 7748 §4.1), so the
 * identity key can take part in X3DH Diffie-Hellman.
 * @throws ProtocolError `E_BAD_KEY` when the key is not a valid Ed25519 point.
 */
export function identityToX25519Public(identityPublicKey: Uint8Array): Uint8Array {
  try {
    return ed25519.utils.toMontgomery(identityPublicKey);
  } catch (cause) {
    throw new ProtocolError(ErrorCode.BAD_KEY, 'identity key is not a valid Ed25519 key', {
      cause,
    });
  }
}

/** The X25519 secret matching {@link identityToX25519Public} for our own identity key. */
export function identityToX25519Secret(identitySecretKey: Uint8Array): Uint8Array {
  return ed25519.utils.toMontgomerySecret(identitySecretKey);
}

/**
 * Identity fingerprint shown to users: SHA-256 of the Ed25519 public key, first 32 hex
 * digits in four groups (`xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx`).
 */
export function identityFingerprint(identityPublicKey: Uint8Array): string {
  const hex = bytesToHex(sha256Digest(identityPublicKey)).slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16, 24)}-${hex.slice(24, 32)}`;
}

export { concat as concatBytes };
