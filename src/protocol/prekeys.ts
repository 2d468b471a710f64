import { ed25519Verify } from './ed25519-verify.js';
import {
  asRecord,
  badField,
  optionalMessageId,
  readCaps,
  requireBase64,
  requireCount,
  requireName,
  requireTime,
  requireUint32,
} from './fields.js';
import { concatBytes, ed25519Sign } from './identity.js';
import { type KemPrekeyWire, readKemPrekey, readKemPrekeyList } from './kem-prekeys.js';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  MAX_PREKEYS_PER_UPLOAD,
  SIGNED_PREKEY_MAX_AGE_MS,
  SIGNED_PREKEY_MAX_FUTURE_MS,
  X25519_KEY_BYTES,
} from './limits.js';

/**
 * Prekeys (X3DH §2.3, §3.2): one-time prekeys, signed prekeys with a lifecycle, and their
 * frames — `prekeys` uploads (C→S) and counts (S→C), `bundle` requests (C→S) and answers
 * (S→C). Frame types, parsers, encoders and the signed-prekey signature side by side.
 */

// --- signed prekeys: the signed record and its lifecycle ------------------------------------

/**
 * Kinds of signed prekey. Each kind has its own lifecycle slot (current and previous) and
 * its own signature domain; post-quantum KEM prekeys (PQXDH) are meant to join as another
 * kind beside X25519.
 */
export const SignedPrekeyKind = {
  x25519: 'x25519',
  /** The signed last-resort ML-KEM-1024 prekey of PQXDH (signed in its own domain, kem-prekeys.ts). */
  mlkem1024: 'ml-kem-1024',
} as const;
export type SignedPrekeyKind = (typeof SignedPrekeyKind)[keyof typeof SignedPrekeyKind];

/** Domain separation of the signature over a signed prekey record (X3DH §2.5 "signed prekey"). */
const SIGNED_PREKEY_CONTEXT = 'securechat/v2/signed-prekey\0';

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
function signedPrekeyMessage(prekey: SignedPrekey): Uint8Array {
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

// --- frames ---------------------------------------------------------------------------------

/** A one-time prekey: X25519 public key with a client-chosen id (uint32). */
export interface OneTimePrekey {
  id: number;
  /** Base64, 32 bytes. */
  pub: string;
}

/**
 * A signed prekey as its owner publishes it (`spk` capability): the X25519 key, its id and
 * creation time, the identity's signature over all three (`sig`) and the older signature
 * over the key alone (`pubsig`, the `x25519-pub` context), which is what clients without
 * `spk` check in a bundle.
 */
export interface SignedPrekeyUpload {
  id: number;
  created: number;
  /** Base64, 32 bytes. */
  pub: string;
  /** Base64, 64 bytes: over context ‖ kind ‖ id ‖ created ‖ pub. */
  sig: string;
  /** Base64, 64 bytes: over `securechat/v2/x25519-pub\0` ‖ pub. */
  pubsig: string;
}

/** C→S: upload one-time prekeys and/or the current signed prekey (v2 sessions with an identity). */
export interface PrekeysUploadFrame {
  type: 'prekeys';
  keys: OneTimePrekey[];
  /** Drop every prekey stored before this batch (the client lost their secrets). */
  replace?: boolean;
  /** The owner's current signed prekey (it becomes the server's current one if newer). */
  spk?: SignedPrekeyUpload;
  /** `pq`: one-time ML-KEM-1024 prekeys (1 to 25; each handed out once). */
  kem?: KemPrekeyWire[];
  /** `pq`: the signed last-resort ML-KEM-1024 prekey (current if newer; handed out many times). */
  kemlr?: KemPrekeyWire;
  /** `pq`: drop every one-time KEM prekey stored before this batch (their secrets are lost). */
  kemreplace?: boolean;
}

/** C→S: ask for a user's prekey bundle (works while the user is offline). */
export interface BundleRequestFrame {
  type: 'bundle';
  user: string;
  id?: string;
}

/** C→S: stored (offline) messages up to and including `upto` were processed: delete them. */
export interface FetchedFrame {
  type: 'fetched';
  upto: number;
}

/** The id, creation time and full signature of the signed prekey a bundle's `pub` is. */
export interface BundleSignedPrekey {
  id: number;
  created: number;
  /** Base64, 64 bytes: over context ‖ kind ‖ id ‖ created ‖ pub. */
  sig: string;
}

/** S→C answer to `bundle`: the peer's keys and, while any are left, one one-time prekey. */
export interface BundleFrame {
  type: 'bundle';
  user: string;
  id?: string;
  /**
   * Base64: the X25519 signed prekey (X3DH SPK_B), `idk`, and `sig` over `pub` in the
   * `x25519-pub` context. With `spk` this is the owner's current rotating signed prekey;
   * without it (an owner or server without `spk`) its hello key.
   */
  pub: string;
  idk: string;
  sig: string;
  /** Present when `pub` is a rotating signed prekey: its id, age and full signature. */
  spk?: BundleSignedPrekey;
  /** Absent when the user has no one-time prekey left (X3DH still works without one). */
  opk?: OneTimePrekey;
  /**
   * `pq` owners: a one-time KEM prekey, or (`last: true`) the last-resort one. Absent for
   * owners without `pq`, which a client that saw the owner with `pq` refuses (downgrade).
   */
  kem?: BundleKemPrekey;
  /** Whether the user is online right now. */
  online: boolean;
  /** Capabilities of the owner's last hello (a hint for the envelope to use). */
  caps?: string[];
}

/** A KEM prekey in a bundle: one-time, or the last-resort one (`last`). */
export interface BundleKemPrekey extends KemPrekeyWire {
  last?: true;
}

/**
 * S→C: how many one-time prekeys the server holds for you (sent when low and on request),
 * and which signed prekey it hands out as yours (servers with `spk`).
 */
export interface PrekeyCountFrame {
  type: 'prekeys';
  stored: number;
  spk?: { id: number; created: number };
  /** `pq`: one-time KEM prekeys stored, and the current last-resort one's id and age. */
  kem?: number;
  kemlr?: { id: number; created: number };
}

function readPrekey(value: unknown): OneTimePrekey {
  const record = asRecord(value, 'each prekey');
  return {
    id: requireUint32(record, 'id', 'prekey'),
    pub: requireBase64(record, 'pub', X25519_KEY_BYTES),
  };
}

/** The id and creation time of a signed prekey record. */
function readSpkHead(record: Record<string, unknown>): { id: number; created: number } {
  return {
    id: requireUint32(record, 'id', 'signed prekey'),
    created: requireTime(record, 'signed prekey'),
  };
}

/** @throws ProtocolError `E_BAD_FIELD`. */
export function readSignedPrekeyUpload(value: unknown): SignedPrekeyUpload {
  const record = asRecord(value, 'field "spk"');
  return {
    ...readSpkHead(record),
    pub: requireBase64(record, 'pub', X25519_KEY_BYTES),
    sig: requireBase64(record, 'sig', ED25519_SIGNATURE_BYTES),
    pubsig: requireBase64(record, 'pubsig', ED25519_SIGNATURE_BYTES),
  };
}

/** @throws ProtocolError `E_BAD_FIELD`. */
export function readPrekeysUpload(frame: Record<string, unknown>): PrekeysUploadFrame {
  const spk = frame.spk === undefined ? undefined : readSignedPrekeyUpload(frame.spk);
  const kem = frame.kem === undefined ? undefined : readKemPrekeyList(frame.kem);
  const kemlr = frame.kemlr === undefined ? undefined : readKemPrekey(frame.kemlr, 'field "kemlr"');
  const keys = frame.keys ?? [];
  const min = spk || kem || kemlr || frame.kemreplace === true ? 0 : 1;
  if (!Array.isArray(keys) || keys.length < min || keys.length > MAX_PREKEYS_PER_UPLOAD) {
    badField(`field "keys" must be an array of ${min}-${MAX_PREKEYS_PER_UPLOAD} prekeys`);
  }
  const parsed = keys.map(readPrekey);
  if (new Set(parsed.map((k) => k.id)).size !== parsed.length)
    badField('prekey ids must be distinct');
  if (frame.replace !== undefined && typeof frame.replace !== 'boolean')
    badField('field "replace" must be a boolean');
  if (frame.kemreplace !== undefined && typeof frame.kemreplace !== 'boolean')
    badField('field "kemreplace" must be a boolean');
  return {
    type: 'prekeys',
    keys: parsed,
    ...(frame.replace === true ? { replace: true } : {}),
    ...(spk ? { spk } : {}),
    ...(kem ? { kem } : {}),
    ...(kemlr ? { kemlr } : {}),
    ...(frame.kemreplace === true ? { kemreplace: true } : {}),
  };
}

/** @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME`. */
export function readBundleRequest(frame: Record<string, unknown>): BundleRequestFrame {
  const request: BundleRequestFrame = { type: 'bundle', user: requireName(frame, 'user') };
  const id = optionalMessageId(frame);
  if (id !== undefined) request.id = id;
  return request;
}

/** @throws ProtocolError `E_BAD_FIELD`. */
export function readFetched(frame: Record<string, unknown>): FetchedFrame {
  return { type: 'fetched', upto: requireCount(frame, 'upto', 'must be a non-negative integer') };
}

/** Reads a bundle (S→C). @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME`. */
export function readBundle(frame: Record<string, unknown>): BundleFrame {
  const bundle: BundleFrame = {
    type: 'bundle',
    user: requireName(frame, 'user'),
    pub: requireBase64(frame, 'pub', X25519_KEY_BYTES),
    idk: requireBase64(frame, 'idk', ED25519_PUBLIC_KEY_BYTES),
    sig: requireBase64(frame, 'sig', ED25519_SIGNATURE_BYTES),
    online: frame.online === true,
  };
  const id = optionalMessageId(frame);
  if (id !== undefined) bundle.id = id;
  if (frame.opk !== undefined && frame.opk !== null) bundle.opk = readPrekey(frame.opk);
  if (frame.spk !== undefined && frame.spk !== null) {
    const spk = asRecord(frame.spk, 'field "spk"');
    bundle.spk = {
      ...readSpkHead(spk),
      sig: requireBase64(spk, 'sig', ED25519_SIGNATURE_BYTES),
    };
  }
  if (frame.kem !== undefined && frame.kem !== null) {
    const kem: BundleKemPrekey = readKemPrekey(frame.kem, 'field "kem"');
    if (asRecord(frame.kem, 'field "kem"').last === true) kem.last = true;
    bundle.kem = kem;
  }
  if (frame.caps !== undefined && frame.caps !== null) bundle.caps = readCaps(frame.caps);
  return bundle;
}

/** Reads a prekey count (S→C). @throws ProtocolError `E_BAD_FIELD`. */
export function readPrekeyCount(frame: Record<string, unknown>): PrekeyCountFrame {
  const count: PrekeyCountFrame = {
    type: 'prekeys',
    stored: requireCount(frame, 'stored', 'must be a count'),
  };
  if (frame.spk !== undefined && frame.spk !== null)
    count.spk = readSpkHead(asRecord(frame.spk, 'field "spk"'));
  if (frame.kem !== undefined && frame.kem !== null)
    count.kem = requireCount(frame, 'kem', 'must be a count');
  if (frame.kemlr !== undefined && frame.kemlr !== null)
    count.kemlr = readSpkHead(asRecord(frame.kemlr, 'field "kemlr"'));
  return count;
}

/**
 * The `bundle` line. Every field was validated (names, Base64, capability names) or is a
 * number, so the JSON is ASCII.
 */
export function encodeBundle(bundle: BundleFrame): string {
  return `${JSON.stringify({
    type: 'bundle',
    user: bundle.user,
    ...(bundle.id === undefined ? {} : { id: bundle.id }),
    pub: bundle.pub,
    idk: bundle.idk,
    sig: bundle.sig,
    ...(bundle.spk
      ? { spk: { id: bundle.spk.id, created: bundle.spk.created, sig: bundle.spk.sig } }
      : {}),
    ...(bundle.opk ? { opk: { id: bundle.opk.id, pub: bundle.opk.pub } } : {}),
    ...(bundle.kem
      ? {
          kem: {
            id: bundle.kem.id,
            created: bundle.kem.created,
            pub: bundle.kem.pub,
            sig: bundle.kem.sig,
            ...(bundle.kem.last ? { last: true } : {}),
          },
        }
      : {}),
    online: bundle.online,
    ...(bundle.caps === undefined ? {} : { caps: bundle.caps }),
  })}\n`;
}

/**
 * The `prekeys` count line: with the current signed prekey's id and age when there is one,
 * and for `pq` owners the one-time KEM prekeys stored and the last-resort one's id and age.
 */
export function encodePrekeyCount(
  stored: number,
  spk?: { id: number; created: number },
  pq?: { kem: number; kemlr?: { id: number; created: number } },
): string {
  return `${JSON.stringify({
    type: 'prekeys',
    stored,
    ...(spk ? { spk: { id: spk.id, created: spk.created } } : {}),
    ...(pq ? { kem: pq.kem } : {}),
    ...(pq?.kemlr ? { kemlr: { id: pq.kemlr.id, created: pq.kemlr.created } } : {}),
  })}\n`;
}
