import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { type RandomSource, secureRandom, sha256Digest } from './crypto.js';
import { type Ed25519Verifier, ed25519VerifierFor, ed25519VerifyNoble } from './ed25519-verify.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { ED25519_SECRET_KEY_BYTES } from './limits.js';

/**
 * Identity: the long-term Ed25519 key of a user, the signature over its X25519 key, the
 * hello proof that binds a name to the key on one TLS connection, and fingerprints.
 */

/**
 * Domain-separation prefix of the signature over a user's X25519 key (`pub`), so the
 * signature can never be confused with any other message the identity key signs.
 */
const PREKEY_SIGNATURE_CONTEXT = 'securechat/v2/x25519-pub\0';

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

// --- the v2 hello proof ---------------------------------------------------------------------

/** RFC 5705 exporter label of the hello proof (labels starting "EXPORTER" are private use). */
export const HELLO_EXPORTER_LABEL = 'EXPORTER-securechat-v2-hello';
/** Length of the exported keying material signed in the hello proof. */
export const HELLO_EXPORTER_BYTES = 32;
/** Domain separation of the hello proof signature. */
const HELLO_PROOF_CONTEXT = 'securechat/v2/hello-proof\0';

/**
 * The message a v2 hello proof signs: context || exporter || UTF-8 name. The exporter value
 * is unique to one TLS connection, so a captured proof is worthless on any other.
 */
function helloProofMessage(exporter: Uint8Array, name: string): Uint8Array {
  return concat(encoder.encode(HELLO_PROOF_CONTEXT), exporter, encoder.encode(name));
}

/** Signs the hello proof with the identity key. */
export function signHelloProof(
  identitySecretKey: Uint8Array,
  exporter: Uint8Array,
  name: string,
): Uint8Array {
  return ed25519Sign(identitySecretKey, helloProofMessage(exporter, name));
}

/** Result of checking both signatures of a v2 hello. */
export type HelloProofCheck = 'ok' | 'bad-key-signature' | 'bad-proof';

/** The fields of a v2 hello that carry proofs, decoded. */
export interface HelloProofs {
  identityKey: Uint8Array;
  x25519Key: Uint8Array;
  /** Identity signature over the X25519 key ({@link signPrekey}). */
  keySignature: Uint8Array;
  /** Identity signature over {@link helloProofMessage}. */
  proof: Uint8Array;
}

/**
 * Verifies a v2 hello: the signature over the X25519 key (so peers can check the server did
 * not swap it) and the proof of possession bound to this TLS connection by `exporter`.
 * The identity key is parsed once for both checks.
 */
export function verifyHello(
  proofs: HelloProofs,
  exporter: Uint8Array,
  name: string,
  verifierFor: (key: Uint8Array) => Ed25519Verifier = ed25519VerifierFor,
): HelloProofCheck {
  const verifier = verifierFor(proofs.identityKey);
  if (!verifier(prekeySignatureMessage(proofs.x25519Key), proofs.keySignature)) {
    return 'bad-key-signature';
  }
  if (!verifier(helloProofMessage(exporter, name), proofs.proof)) return 'bad-proof';
  return 'ok';
}
