import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { type RandomSource, secureRandom } from './crypto.js';
import { ed25519Verify } from './ed25519-verify.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { asRecord, badField, requireBase64, requireTime, requireUint32 } from './fields.js';
import { concatBytes, ed25519Sign } from './identity.js';
import {
  ED25519_SIGNATURE_BYTES,
  MAX_KEM_PREKEYS_PER_UPLOAD,
  MLKEM1024_CIPHERTEXT_BYTES,
  MLKEM1024_PUBLIC_KEY_BYTES,
  MLKEM1024_SEED_BYTES,
} from './limits.js';

/**
 * Post-quantum KEM prekeys for PQXDH (Signal's PQXDH specification, revision 1 of
 * 2023-05-24, §2.5 and §3.2, with pqkem = ML-KEM-1024 of FIPS 203): each identity publishes
 * signed one-time KEM prekeys and a signed last-resort KEM prekey beside its X25519 prekeys.
 * ML-KEM itself is @noble/post-quantum's; this module only signs, encodes and checks.
 */

/** The pqkem of PQXDH here, as named in the signature and in `kind` columns. */
export const KEM_KIND = 'ml-kem-1024';

/**
 * Domain separation of the signature over a KEM prekey: no other signature of ours (signed
 * prekeys, the `x25519-pub` signature, hello proofs, resets, room keys) starts with it, so a
 * signature over a KEM key is never valid as anything else, nor the other way round.
 */
const KEM_PREKEY_CONTEXT = 'securechat/v2/kem-prekey\0';

/** The public part of a KEM prekey: what its signature covers. */
export interface KemPrekey {
  /** Chosen by the owner (uint32), unique among its KEM prekeys of both sorts. */
  id: number;
  /** Creation time, ms since the epoch (owner's clock). */
  created: number;
  /** The signed last-resort key (used when no one-time KEM prekey is left). */
  lastResort: boolean;
  /** ML-KEM-1024 encapsulation key, 1,568 bytes. */
  publicKey: Uint8Array;
}

/** A KEM prekey on the wire (uploads, bundles): Base64 key and signature. */
export interface KemPrekeyWire {
  id: number;
  created: number;
  /** Base64, 1,568 bytes. */
  pub: string;
  /** Base64, 64 bytes: Ed25519 over context ‖ kind ‖ 0 ‖ id ‖ created ‖ last-resort ‖ pub. */
  sig: string;
}

const encoder = new TextEncoder();

/**
 * context ‖ "ml-kem-1024" ‖ 0x00 ‖ id (u32 BE) ‖ created (u64 BE) ‖ last-resort (1 byte) ‖ key.
 * The kind and the last-resort flag are signed, so a server can neither pass a key off as
 * another KEM's nor turn a one-time key into one handed out many times.
 */
function kemPrekeyMessage(prekey: KemPrekey): Uint8Array {
  const numbers = new Uint8Array(13);
  const view = new DataView(numbers.buffer);
  view.setUint32(0, prekey.id);
  view.setBigUint64(4, BigInt(prekey.created));
  numbers[12] = prekey.lastResort ? 1 : 0;
  return concatBytes(
    encoder.encode(KEM_PREKEY_CONTEXT),
    encoder.encode(KEM_KIND),
    Uint8Array.of(0),
    numbers,
    prekey.publicKey,
  );
}

/** Signs a KEM prekey with the identity key (Ed25519). */
export function signKemPrekey(identitySecretKey: Uint8Array, prekey: KemPrekey): Uint8Array {
  return ed25519Sign(identitySecretKey, kemPrekeyMessage(prekey));
}

/** Checks a KEM prekey's signature by an identity key (false for malformed input). */
export function verifyKemPrekey(
  identityPublicKey: Uint8Array,
  prekey: KemPrekey,
  signature: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(prekey.created) || prekey.created < 0) return false;
  if (prekey.publicKey.length !== MLKEM1024_PUBLIC_KEY_BYTES) return false;
  return ed25519Verify(identityPublicKey, kemPrekeyMessage(prekey), signature);
}

/** Reads one KEM prekey record. @throws ProtocolError `E_BAD_FIELD`. */
export function readKemPrekey(value: unknown, what = 'KEM prekey'): KemPrekeyWire {
  const record = asRecord(value, what);
  return {
    id: requireUint32(record, 'id', what),
    created: requireTime(record, what),
    pub: requireBase64(record, 'pub', MLKEM1024_PUBLIC_KEY_BYTES),
    sig: requireBase64(record, 'sig', ED25519_SIGNATURE_BYTES),
  };
}

/** Reads the `kem` list of an upload (1 to 25 distinct ids). @throws `E_BAD_FIELD`. */
export function readKemPrekeyList(value: unknown): KemPrekeyWire[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_KEM_PREKEYS_PER_UPLOAD)
    badField(`field "kem" must be an array of 1-${MAX_KEM_PREKEYS_PER_UPLOAD} KEM prekeys`);
  const keys = value.map((v) => readKemPrekey(v));
  if (new Set(keys.map((k) => k.id)).size !== keys.length)
    badField('KEM prekey ids must be distinct');
  return keys;
}

/** The public record of a wire KEM prekey (for its signature check). */
export function kemPrekeyRecord(
  wire: KemPrekeyWire,
  lastResort: boolean,
  publicKey: Uint8Array,
): KemPrekey {
  return { id: wire.id, created: wire.created, lastResort, publicKey };
}

// --- ML-KEM-1024 (FIPS 203) through @noble/post-quantum ---------------------------------------

export interface KemKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** ML-KEM-1024 KeyGen from a 64-byte seed d ‖ z (FIPS 203 Algorithm 19, deterministic). */
export function kemKeyPair(seed: Uint8Array): KemKeyPair {
  if (seed.length !== MLKEM1024_SEED_BYTES) throw new RangeError('ML-KEM seed must be 64 bytes');
  return ml_kem1024.keygen(seed);
}

/** A fresh random 64-byte ML-KEM key seed. */
export function newKemSeed(random: RandomSource = secureRandom): Uint8Array {
  return random(MLKEM1024_SEED_BYTES);
}

/**
 * ML-KEM-1024 Encaps (FIPS 203 Algorithm 20) with its input checks (§7.2: length and the
 * modulus check of the encapsulation key).
 * @throws ProtocolError `E_BAD_KEY` for an encapsulation key that fails them.
 */
export function kemEncapsulate(
  publicKey: Uint8Array,
  random: RandomSource = secureRandom,
): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  try {
    return ml_kem1024.encapsulate(publicKey, random(32));
  } catch (cause) {
    throw new ProtocolError(ErrorCode.BAD_KEY, 'the KEM prekey is not a valid ML-KEM-1024 key', {
      cause,
    });
  }
}

/**
 * ML-KEM-1024 Decaps (FIPS 203 Algorithm 21) with its input checks (§7.3: ciphertext and key
 * lengths, the hash check of the decapsulation key). An invalid ciphertext of the right
 * length gives the implicit-rejection secret, which then fails the first message's AEAD.
 * @throws ProtocolError `E_BAD_FIELD` for input that fails the checks.
 */
export function kemDecapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (cipherText.length !== MLKEM1024_CIPHERTEXT_BYTES)
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'the KEM ciphertext has the wrong length');
  try {
    return ml_kem1024.decapsulate(cipherText, secretKey);
  } catch (cause) {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'ML-KEM decapsulation input refused', { cause });
  }
}
