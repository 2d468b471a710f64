import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from './limits.js';

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

/** DER SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410 §4): 12 bytes + 32-byte key. */
const ED25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

function toKeyObject(publicKey: Uint8Array): KeyObject | undefined {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return undefined;
  const der = new Uint8Array(ED25519_SPKI_PREFIX.length + ED25519_PUBLIC_KEY_BYTES);
  der.set(ED25519_SPKI_PREFIX, 0);
  der.set(publicKey, ED25519_SPKI_PREFIX.length);
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** A verifier bound to one public key (the key is parsed once for several signatures). */
export type Ed25519Verifier = (message: Uint8Array, signature: Uint8Array) => boolean;

/**
 * Ed25519 verification through node:crypto (OpenSSL), RFC 8032 §5.1.7. About 15× faster
 * than the pure-JS path here (see bench/ed25519.mjs and bench/RESULTS.md), which matters on
 * the server's connection path; test/unit/protocol/ed25519-agreement.test.ts proves it agrees
 * with noble on RFC 8032, Wycheproof and random inputs. Malformed input gives false.
 */
export function ed25519VerifierFor(publicKey: Uint8Array): Ed25519Verifier {
  const key = toKeyObject(publicKey);
  return (message, signature) => {
    if (key === undefined || signature.length !== ED25519_SIGNATURE_BYTES) return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}

/** One-shot node:crypto Ed25519 verification. */
export function ed25519VerifyNode(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return ed25519VerifierFor(publicKey)(message, signature);
}

/** The Ed25519 verification the project uses: the faster of the two measured paths. */
export const ed25519Verify = ed25519VerifyNode;
