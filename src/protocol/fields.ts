import { base64DecodedLength } from './base64.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { isForbiddenKey } from './frame.js';
import {
  MAX_ALG_LENGTH,
  MAX_CAP_LENGTH,
  MAX_CAPS,
  MAX_MESSAGE_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PROTOCOL_VERSION,
} from './limits.js';

/**
 * Field readers shared by every frame parser: each takes the decoded frame (or a nested
 * record), checks one field and returns it typed, or throws a non-fatal ProtocolError
 * (`E_BAD_FIELD`, or `E_BAD_NAME` for names) with a message naming the field.
 * None of the patterns below can backtrack.
 */

/** User names: ASCII `[A-Za-z0-9_.-]{1,32}` (no homoglyphs, no controls). */
const NAME_PATTERN = new RegExp(`^[A-Za-z0-9_.-]{1,${MAX_NAME_LENGTH}}$`);
/** Room names: `#` followed by the user-name charset, 1-32 characters. */
const ROOM_PATTERN = new RegExp(`^#[A-Za-z0-9_.-]{1,${MAX_NAME_LENGTH}}$`);
/** Envelope algorithm identifiers, e.g. `X25519+AESGCM`. */
const ALG_PATTERN = new RegExp(`^[A-Za-z0-9+._-]{1,${MAX_ALG_LENGTH}}$`);
/** Client-chosen message ids (opaque to the server, echoed in acks and errors). */
export const ID_PATTERN_SOURCE = `[A-Za-z0-9_-]{1,${MAX_MESSAGE_ID_LENGTH}}`;
const ID_PATTERN = new RegExp(`^${ID_PATTERN_SOURCE}$`);
/** Capability names. */
const CAP_PATTERN = new RegExp(`^[a-z0-9-]{1,${MAX_CAP_LENGTH}}$`);

const utf8 = new TextEncoder();

/** Throws the non-fatal `E_BAD_FIELD` error every reader uses. */
export function badField(message: string): never {
  throw new ProtocolError(ErrorCode.BAD_FIELD, message);
}

/**
 * True when `name` is a valid user name: the pattern, and not a key frames may not use
 * (a user named `constructor` would make every directory and member object it is a key of
 * unparseable for every client).
 */
export function isValidName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length <= MAX_NAME_LENGTH &&
    NAME_PATTERN.test(name) &&
    !isForbiddenKey(name)
  );
}

/** True when `room` is a valid room name (`#` + a user name). */
export function isValidRoom(room: unknown): room is string {
  return typeof room === 'string' && room.length <= MAX_NAME_LENGTH + 1 && ROOM_PATTERN.test(room);
}

/** True when `alg` is a syntactically valid envelope algorithm identifier. */
export function isValidAlg(alg: unknown): alg is string {
  return typeof alg === 'string' && alg.length <= MAX_ALG_LENGTH && ALG_PATTERN.test(alg);
}

/** True when `id` is a valid client message id. */
function isValidMessageId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= MAX_MESSAGE_ID_LENGTH && ID_PATTERN.test(id);
}

/** `value` as a record. @throws ProtocolError `E_BAD_FIELD` naming `what`. */
export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    badField(`${what} must be an object`);
  return value as Record<string, unknown>;
}

/** Reads a required string field. @throws ProtocolError `E_BAD_FIELD`. */
export function requireString(frame: Record<string, unknown>, field: string): string {
  const value = frame[field];
  if (typeof value !== 'string') badField(`field "${field}" must be a string`);
  return value;
}

/** Reads an optional string field (absent or null gives undefined). @throws `E_BAD_FIELD`. */
export function optionalString(frame: Record<string, unknown>, field: string): string | undefined {
  const value = frame[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') badField(`field "${field}" must be a string`);
  return value;
}

/**
 * Reads a string field leniently: a string, or undefined for anything else (for display
 * fields of server frames, where a wrong type is ignored rather than refused).
 */
export function lenientString(frame: Record<string, unknown>, field: string): string | undefined {
  const value = frame[field];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Reads an optional string field of at most `maxBytes` UTF-8 bytes.
 * @throws ProtocolError `E_BAD_FIELD`.
 */
export function optionalText(
  frame: Record<string, unknown>,
  field: string,
  maxBytes: number,
): string | undefined {
  const value = optionalString(frame, field);
  if (value !== undefined && utf8.encode(value).length > maxBytes)
    badField(`field "${field}" is longer than ${maxBytes} bytes`);
  return value;
}

/** Reads a required user name. @throws ProtocolError `E_BAD_NAME` or `E_BAD_FIELD`. */
export function requireName(frame: Record<string, unknown>, field: string): string {
  const value = frame[field];
  if (typeof value !== 'string') badField(`field "${field}" must be a string`);
  if (!isValidName(value)) {
    throw new ProtocolError(
      ErrorCode.BAD_NAME,
      `field "${field}" must be 1-${MAX_NAME_LENGTH} characters of A-Z a-z 0-9 _ . -`,
    );
  }
  return value;
}

/** Reads the required `room` field. @throws ProtocolError `E_BAD_NAME`. */
export function requireRoom(frame: Record<string, unknown>, field = 'room'): string {
  const room = frame[field];
  if (!isValidRoom(room)) {
    throw new ProtocolError(
      ErrorCode.BAD_NAME,
      `field "${field}" must be # followed by 1-${MAX_NAME_LENGTH} of A-Z a-z 0-9 _ . -`,
    );
  }
  return room;
}

/** Reads the required `alg` field. @throws ProtocolError `E_BAD_FIELD`. */
export function requireAlg(frame: Record<string, unknown>): string {
  const alg = requireString(frame, 'alg');
  if (!isValidAlg(alg)) badField('field "alg" is not a valid algorithm name');
  return alg;
}

/**
 * Reads a required Base64 field and checks its decoded length without decoding it.
 * @param size exact byte length, or `{ min, max }` bounds.
 * @throws ProtocolError `E_BAD_FIELD`.
 */
export function requireBase64(
  frame: Record<string, unknown>,
  field: string,
  size: number | { min: number; max?: number },
): string {
  const value = frame[field];
  if (typeof value !== 'string') badField(`field "${field}" must be a Base64 string`);
  const length = base64DecodedLength(value);
  if (length < 0) badField(`field "${field}" is not standard padded Base64`);
  if (typeof size === 'number') {
    if (length !== size) badField(`field "${field}" must decode to ${size} bytes, got ${length}`);
  } else if (length < size.min || (size.max !== undefined && length > size.max)) {
    badField(
      `field "${field}" must decode to ${size.min}${size.max === undefined ? '+' : `-${size.max}`} bytes, got ${length}`,
    );
  }
  return value;
}

/** Reads an optional Base64 field (absent or null gives undefined); see {@link requireBase64}. */
export function optionalBase64(
  frame: Record<string, unknown>,
  field: string,
  size: number | { min: number; max?: number },
): string | undefined {
  const value = frame[field];
  return value === undefined || value === null ? undefined : requireBase64(frame, field, size);
}

/** Reads an optional message id (`id`). @throws ProtocolError `E_BAD_FIELD`. */
export function optionalMessageId(frame: Record<string, unknown>): string | undefined {
  const id = frame.id;
  if (id === undefined || id === null) return undefined;
  if (!isValidMessageId(id)) badField('field "id" must be 1-64 characters of A-Z a-z 0-9 _ -');
  return id;
}

/** `value` with the frame's optional message id added when it has one. */
export function withId<T extends object>(
  frame: Record<string, unknown>,
  value: T,
): T & { id?: string } {
  const id = optionalMessageId(frame);
  return id === undefined ? value : { ...value, id };
}

/** Reads a non-negative safe integer field. @throws ProtocolError `E_BAD_FIELD`. */
export function requireCount(record: Record<string, unknown>, field: string, what: string): number {
  const value = record[field];
  if (!Number.isSafeInteger(value) || (value as number) < 0) badField(`field "${field}" ${what}`);
  return value as number;
}

/** Reads a uint32 field (prekey ids). @throws ProtocolError `E_BAD_FIELD`. */
export function requireUint32(
  record: Record<string, unknown>,
  field: string,
  what: string,
): number {
  const id = record[field];
  if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) > 0xffffffff) {
    badField(`${what} "${field}" must be an integer from 0 to 2^32-1`);
  }
  return id as number;
}

/** Reads the `created` time (ms since the epoch) of a record. @throws `E_BAD_FIELD`. */
export function requireTime(record: Record<string, unknown>, what: string): number {
  const created = record.created;
  if (!Number.isSafeInteger(created) || (created as number) < 0)
    badField(`${what} "created" must be a time in ms`);
  return created as number;
}

/** Reads a protocol version `v` (absent: 1). @throws ProtocolError `E_BAD_FIELD`. */
export function readVersion(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (
    !Number.isSafeInteger(value) ||
    (value as number) < 1 ||
    (value as number) > MAX_PROTOCOL_VERSION
  ) {
    badField('field "v" must be a small positive integer');
  }
  return value as number;
}

/**
 * Reads a `caps` list: at most {@link MAX_CAPS} names of `[a-z0-9-]{1,32}`, duplicates
 * dropped; absent gives `[]`. Unknown names are kept (a newer peer's capabilities).
 * @throws ProtocolError `E_BAD_FIELD`.
 */
export function readCaps(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_CAPS) {
    badField(`field "caps" must be an array of at most ${MAX_CAPS} names`);
  }
  const caps: string[] = [];
  for (const cap of value) {
    if (typeof cap !== 'string' || !CAP_PATTERN.test(cap))
      badField('field "caps" holds an invalid capability name');
    if (!caps.includes(cap)) caps.push(cap);
  }
  return caps;
}

/**
 * JSON with every non-ASCII character escaped as \uXXXX: equivalent JSON that keeps every
 * line an encoder produces pure ASCII, so servers can write sockets as latin1 (no UTF-8
 * pass) and count queued bytes exactly. For free text (chat, topics, reasons, errors).
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
