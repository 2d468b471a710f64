import { ErrorCode, ProtocolError } from './errors.js';
import { optionalMessageId, readCaps, requireBase64, requireName } from './fields.js';
import { ED25519_SIGNATURE_BYTES } from './identity.js';
import { X25519_KEY_BYTES } from './limits.js';

/** Most one-time prekeys in one `prekeys` upload. */
export const MAX_PREKEYS_PER_UPLOAD = 100;
/** Most one-time prekeys the server keeps per identity. */
export const MAX_STORED_PREKEYS = 200;
/** Below this many stored prekeys the server tells the owner to upload more. */
export const PREKEY_LOW_WATERMARK = 20;

/** A one-time prekey: X25519 public key with a client-chosen id (uint32). */
export interface OneTimePrekey {
  id: number;
  /** Base64, 32 bytes. */
  pub: string;
}

/**
 * A signed prekey as its owner publishes it (`spk` capability): the X25519 key, its id and
 * creation time, the identity's signature over all three (`sig`, see signed-prekey.ts) and
 * the older signature over the key alone (`pubsig`, the `x25519-pub` context), which is
 * what clients without `spk` check in a bundle.
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

function badField(message: string): never {
  throw new ProtocolError(ErrorCode.BAD_FIELD, message);
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    badField(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function readUint32(record: Record<string, unknown>, field: string, what: string): number {
  const id = record[field];
  if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) > 0xffffffff) {
    badField(`${what} "${field}" must be an integer from 0 to 2^32-1`);
  }
  return id as number;
}

function readTime(record: Record<string, unknown>, what: string): number {
  const created = record.created;
  if (!Number.isSafeInteger(created) || (created as number) < 0)
    badField(`${what} "created" must be a time in ms`);
  return created as number;
}

function readPrekey(value: unknown): OneTimePrekey {
  const record = asRecord(value, 'each prekey');
  return {
    id: readUint32(record, 'id', 'prekey'),
    pub: requireBase64(record, 'pub', X25519_KEY_BYTES),
  };
}

/** @throws ProtocolError `E_BAD_FIELD`. */
export function readSignedPrekeyUpload(value: unknown): SignedPrekeyUpload {
  const record = asRecord(value, 'field "spk"');
  return {
    id: readUint32(record, 'id', 'signed prekey'),
    created: readTime(record, 'signed prekey'),
    pub: requireBase64(record, 'pub', X25519_KEY_BYTES),
    sig: requireBase64(record, 'sig', ED25519_SIGNATURE_BYTES),
    pubsig: requireBase64(record, 'pubsig', ED25519_SIGNATURE_BYTES),
  };
}

/** @throws ProtocolError `E_BAD_FIELD`. */
export function readPrekeysUpload(frame: Record<string, unknown>): PrekeysUploadFrame {
  const spk = frame.spk === undefined ? undefined : readSignedPrekeyUpload(frame.spk);
  const keys = frame.keys ?? [];
  const min = spk ? 0 : 1;
  if (!Array.isArray(keys) || keys.length < min || keys.length > MAX_PREKEYS_PER_UPLOAD) {
    badField(`field "keys" must be an array of ${min}-${MAX_PREKEYS_PER_UPLOAD} prekeys`);
  }
  const parsed = keys.map(readPrekey);
  if (new Set(parsed.map((k) => k.id)).size !== parsed.length)
    badField('prekey ids must be distinct');
  if (frame.replace !== undefined && typeof frame.replace !== 'boolean')
    badField('field "replace" must be a boolean');
  return {
    type: 'prekeys',
    keys: parsed,
    ...(frame.replace === true ? { replace: true } : {}),
    ...(spk ? { spk } : {}),
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
  const upto = frame.upto;
  if (!Number.isSafeInteger(upto) || (upto as number) < 0)
    badField('field "upto" must be a non-negative integer');
  return { type: 'fetched', upto: upto as number };
}

/** The id, creation time and full signature of the signed prekey a bundle's `pub` is. */
export interface BundleSignedPrekey {
  id: number;
  created: number;
  /** Base64, 64 bytes: over context ‖ kind ‖ id ‖ created ‖ pub (signed-prekey.ts). */
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
  /** Whether the user is online right now. */
  online: boolean;
  /** Capabilities of the owner's last hello (a hint for the envelope to use). */
  caps?: string[];
}

/**
 * S→C: how many one-time prekeys the server holds for you (sent when low and on request),
 * and which signed prekey it hands out as yours (servers with `spk`).
 */
export interface PrekeyCountFrame {
  type: 'prekeys';
  stored: number;
  spk?: { id: number; created: number };
}

export function readBundle(frame: Record<string, unknown>): BundleFrame {
  const bundle: BundleFrame = {
    type: 'bundle',
    user: requireName(frame, 'user'),
    pub: requireBase64(frame, 'pub', X25519_KEY_BYTES),
    idk: requireBase64(frame, 'idk', 32),
    sig: requireBase64(frame, 'sig', 64),
    online: frame.online === true,
  };
  const id = optionalMessageId(frame);
  if (id !== undefined) bundle.id = id;
  if (frame.opk !== undefined && frame.opk !== null) bundle.opk = readPrekey(frame.opk);
  if (frame.spk !== undefined && frame.spk !== null) {
    const spk = asRecord(frame.spk, 'field "spk"');
    bundle.spk = {
      id: readUint32(spk, 'id', 'signed prekey'),
      created: readTime(spk, 'signed prekey'),
      sig: requireBase64(spk, 'sig', ED25519_SIGNATURE_BYTES),
    };
  }
  if (frame.caps !== undefined && frame.caps !== null) bundle.caps = readCaps(frame.caps);
  return bundle;
}

export function readPrekeyCount(frame: Record<string, unknown>): PrekeyCountFrame {
  const stored = frame.stored;
  if (!Number.isSafeInteger(stored) || (stored as number) < 0)
    badField('field "stored" must be a count');
  const count: PrekeyCountFrame = { type: 'prekeys', stored: stored as number };
  if (frame.spk !== undefined && frame.spk !== null) {
    const spk = asRecord(frame.spk, 'field "spk"');
    count.spk = {
      id: readUint32(spk, 'id', 'signed prekey'),
      created: readTime(spk, 'signed prekey'),
    };
  }
  return count;
}
