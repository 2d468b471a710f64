import { ErrorCode, ProtocolError } from './errors.js';
import { optionalMessageId, requireBase64, requireName } from './fields.js';
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

/** C→S: upload a batch of one-time prekeys (v2 sessions with an identity only). */
export interface PrekeysUploadFrame {
  type: 'prekeys';
  keys: OneTimePrekey[];
  /** Drop every prekey stored before this batch (the client lost their secrets). */
  replace?: boolean;
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

function readPrekey(value: unknown): OneTimePrekey {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    badField('each prekey must be an object');
  const record = value as Record<string, unknown>;
  const id = record.id;
  if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) > 0xffffffff) {
    badField('prekey "id" must be an integer from 0 to 2^32-1');
  }
  return { id: id as number, pub: requireBase64(record, 'pub', X25519_KEY_BYTES) };
}

/** @throws ProtocolError `E_BAD_FIELD`. */
export function readPrekeysUpload(frame: Record<string, unknown>): PrekeysUploadFrame {
  const keys = frame.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_PREKEYS_PER_UPLOAD) {
    badField(`field "keys" must be an array of 1-${MAX_PREKEYS_PER_UPLOAD} prekeys`);
  }
  const parsed = keys.map(readPrekey);
  if (new Set(parsed.map((k) => k.id)).size !== parsed.length)
    badField('prekey ids must be distinct');
  return { type: 'prekeys', keys: parsed };
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

/** S→C answer to `bundle`: the peer's keys and, while any are left, one one-time prekey. */
export interface BundleFrame {
  type: 'bundle';
  user: string;
  id?: string;
  /** Base64 fields as in the directory: X25519 `pub` (signed prekey), `idk`, `sig`. */
  pub: string;
  idk: string;
  sig: string;
  /** Absent when the user has no one-time prekey left (X3DH still works without one). */
  opk?: OneTimePrekey;
  /** Whether the user is online right now. */
  online: boolean;
}

/** S→C: how many one-time prekeys the server holds for you (sent when low and on request). */
export interface PrekeyCountFrame {
  type: 'prekeys';
  stored: number;
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
  return bundle;
}

export function readPrekeyCount(frame: Record<string, unknown>): PrekeyCountFrame {
  const stored = frame.stored;
  if (!Number.isSafeInteger(stored) || (stored as number) < 0)
    badField('field "stored" must be a count');
  return { type: 'prekeys', stored: stored as number };
}
