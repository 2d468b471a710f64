import { base64DecodedLength } from './base64.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { MAX_NAME_LENGTH } from './limits.js';

/** User and room names: ASCII `[A-Za-z0-9_.-]{1,32}` (no homoglyphs, no controls). */
const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
/** Envelope algorithm identifiers, e.g. `X25519+AESGCM`. */
const ALG_PATTERN = /^[A-Za-z0-9+._-]{1,32}$/;
/** Client-chosen message ids (opaque to the server, echoed in acks and errors). */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** True when `name` is a valid user name. */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name);
}

/** The case-insensitive key under which a name is unique (ASCII only, so no locale issues). */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

export function isValidAlg(alg: unknown): alg is string {
  return typeof alg === 'string' && ALG_PATTERN.test(alg);
}

export function isValidMessageId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

function badField(message: string): never {
  throw new ProtocolError(ErrorCode.BAD_FIELD, message);
}

/** Reads a required string field. @throws ProtocolError `E_BAD_FIELD`. */
export function requireString(frame: Record<string, unknown>, field: string): string {
  const value = frame[field];
  if (typeof value !== 'string') badField(`field "${field}" must be a string`);
  return value;
}

/** Reads an optional string field (absent or null gives undefined). */
export function optionalString(frame: Record<string, unknown>, field: string): string | undefined {
  const value = frame[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') badField(`field "${field}" must be a string`);
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

/**
 * Reads a required Base64 field and checks its decoded length without decoding it.
 * @param exact exact byte length, or `{ min, max }` bounds.
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

/** Reads an optional message id. */
export function optionalMessageId(frame: Record<string, unknown>): string | undefined {
  const id = frame.id;
  if (id === undefined || id === null) return undefined;
  if (!isValidMessageId(id)) badField('field "id" must be 1-64 characters of A-Z a-z 0-9 _ -');
  return id;
}

/** Capability names: `[a-z0-9-]{1,32}`, at most 16 per frame. */
const CAP_PATTERN = /^[a-z0-9-]{1,32}$/;
const MAX_CAPS = 16;

export function readCaps(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_CAPS) {
    throw new ProtocolError(
      ErrorCode.BAD_FIELD,
      `field "caps" must be an array of at most ${MAX_CAPS} names`,
    );
  }
  const caps: string[] = [];
  for (const cap of value) {
    if (typeof cap !== 'string' || !CAP_PATTERN.test(cap)) {
      throw new ProtocolError(ErrorCode.BAD_FIELD, 'field "caps" holds an invalid capability name');
    }
    if (!caps.includes(cap)) caps.push(cap);
  }
  return caps;
}
