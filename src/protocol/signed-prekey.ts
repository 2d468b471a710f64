import { ed25519Verify } from './ed25519-verify.js';
import { concatBytes, ed25519Sign } from './identity.js';

/**
 * Kinds of signed prekey. Each kind has its own lifecycle slot (current and previous) and
 * its own signature domain; post-quantum KEM prekeys (PQXDH) are meant to join as another
 * kind beside X25519.
 */
export const SignedPrekeyKind = {
  x25519: 'x25519',
} as const;
export type SignedPrekeyKind = (typeof SignedPrekeyKind)[keyof typeof SignedPrekeyKind];

/** Domain separation of the signature over a signed prekey record (X3DH §2.5 "signed prekey"). */
export const SIGNED_PREKEY_CONTEXT = 'securechat/v2/signed-prekey\0';

/** A new signed prekey is made when the current one is this old (Signal rotates weekly). */
export const SIGNED_PREKEY_ROTATION_MS = 7 * 24 * 3_600_000;
/**
 * The previous signed prekey's secret is kept this long after it was replaced, so first
 * messages stored for us while offline still open (the server's default mailbox TTL).
 */
export const SIGNED_PREKEY_RETENTION_MS = 7 * 24 * 3_600_000;
/**
 * Initiators refuse a signed prekey older than this: its owner rotates weekly whenever
 * online, and the server keeps mailboxes only for identities seen within 30 days, so an older
 * one is a stale key a server keeps alive (whose secret may be gone, or stolen).
 */
export const SIGNED_PREKEY_MAX_AGE_MS = 45 * 24 * 3_600_000;
/** ... or created further in the future than this (clock skew allowance). */
export const SIGNED_PREKEY_MAX_FUTURE_MS = 24 * 3_600_000;

/** The public part of a signed prekey: what its signature covers. */
export interface SignedPrekey {
  kind: SignedPrekeyKind;
  /** Chosen by the owner (uint32), unique among its signed prekeys. */
  id: number;
  /** Creation time, ms since the epoch (owner's clock). */
  created: number;
  publicKey: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * The signed message: context ‖ kind ‖ 0x00 ‖ id (u32 BE) ‖ created (u64 BE, ms) ‖ public key.
 * Binding id and creation time means a server cannot relabel an old key as new (and so keep
 * it alive past its owner's rotation) without initiators noticing its age.
 */
export function signedPrekeyMessage(prekey: SignedPrekey): Uint8Array {
  const numbers = new Uint8Array(12);
  const view = new DataView(numbers.buffer);
  view.setUint32(0, prekey.id);
  view.setBigUint64(4, BigInt(prekey.created));
  return concatBytes(
    encoder.encode(SIGNED_PREKEY_CONTEXT),
    encoder.encode(prekey.kind),
    Uint8Array.of(0),
    numbers,
    prekey.publicKey,
  );
}

/** Signs a signed prekey record with the identity key (Ed25519, deterministic). */
export function signSignedPrekey(identitySecretKey: Uint8Array, prekey: SignedPrekey): Uint8Array {
  return ed25519Sign(identitySecretKey, signedPrekeyMessage(prekey));
}

/** Checks a signed prekey record's signature by an identity key (false for malformed input). */
export function verifySignedPrekey(
  identityPublicKey: Uint8Array,
  prekey: SignedPrekey,
  signature: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(prekey.created) || prekey.created < 0) return false;
  return ed25519Verify(identityPublicKey, signedPrekeyMessage(prekey), signature);
}

/**
 * Whether an initiator may use a signed prekey created at `created` now: not older than
 * {@link SIGNED_PREKEY_MAX_AGE_MS}, not further in the future than the skew allowance.
 */
export function signedPrekeyFresh(created: number, now: number): boolean {
  return created >= now - SIGNED_PREKEY_MAX_AGE_MS && created <= now + SIGNED_PREKEY_MAX_FUTURE_MS;
}
