import { encodeRelayDelivery, type RelayFrame } from './core.js';
import { isForbiddenKey } from './frame.js';
import {
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  MAX_ALG_LENGTH,
  MAX_MESSAGE_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_RELAY_HEADER_BYTES,
} from './limits.js';

/**
 * The relay hot path (issue 16). A relay as the router needs it: where it goes, its id for
 * the ack, its size for the statistics, and its delivery line with the server-set `from`.
 * Two kinds: {@link EncodedRelay} wraps a frame the full parser read; {@link SplicedRelay}
 * comes from {@link readCanonicalRelay}, which validates the original bytes by a scan and
 * forwards them with `from` spliced in, without JSON.parse, regexes or re-encoding.
 */
export interface RelayRoute {
  readonly to: string;
  readonly id: string | undefined;
  /** Characters of the Base64 `cipher` (the envelope's size, for logs and statistics). */
  readonly cipherLength: number;
  /** The line delivered to `to` ({@link encodeRelayDelivery}'s shape), `from` set by the server. */
  deliveryLine(from: string): string;
}

/** A relay read by the full parser (`readRelay`): delivered by {@link encodeRelayDelivery}. */
export class EncodedRelay implements RelayRoute {
  readonly frame: RelayFrame;
  constructor(frame: RelayFrame) {
    this.frame = frame;
  }
  get to(): string {
    return this.frame.to;
  }
  get id(): string | undefined {
    return this.frame.id;
  }
  get cipherLength(): number {
    return this.frame.cipher.length;
  }
  deliveryLine(from: string): string {
    return encodeRelayDelivery(from, this.frame);
  }
}

/** What the delivery line starts with, before the sender's name. */
const DELIVERY_HEAD = '{"type":"relay","from":"';

/** A relay validated by {@link readCanonicalRelay}: its delivery is the original tail. */
export class SplicedRelay implements RelayRoute {
  readonly to: string;
  readonly id: string | undefined;
  readonly cipherLength: number;
  /** The original line after `{"type":"relay",`: `"to":…}` (no newline). */
  readonly #tail: string;
  constructor(to: string, id: string | undefined, cipherLength: number, tail: string) {
    this.to = to;
    this.id = id;
    this.cipherLength = cipherLength;
    this.#tail = tail;
  }
  deliveryLine(from: string): string {
    return `${DELIVERY_HEAD}${from}",${this.#tail}\n`;
  }
}

// Character classes, indexed by byte (anything ≥ 128 is in none of them; 256 entries so a
// lookup never leaves the array, which would deoptimize the scan).
const NAME = 1; // [A-Za-z0-9_.-]
const ALG = 2; // [A-Za-z0-9+._-]
const ID = 4; // [A-Za-z0-9_-]
const B64 = 8; // [A-Za-z0-9+/]
const CLASS = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const alnum = /[A-Za-z0-9]/.test(ch);
  let flags = 0;
  if (alnum || ch === '_' || ch === '.' || ch === '-') flags |= NAME;
  if (alnum || ch === '+' || ch === '.' || ch === '_' || ch === '-') flags |= ALG;
  if (alnum || ch === '_' || ch === '-') flags |= ID;
  if (alnum || ch === '+' || ch === '/') flags |= B64;
  CLASS[c] = flags;
}

const HEAD = '{"type":"relay","to":"';
const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const HEAD_BYTES = bytesOf(HEAD);
const ALG_KEY = bytesOf('","alg":"');
const HEADER_KEY = bytesOf('","header":"');
const NONCE_KEY = bytesOf('","nonce":"');
const CIPHER_KEY = bytesOf('","cipher":"');
const ID_KEY = bytesOf('","id":"');
const QUOTE = 34;
const EQUALS = 61;
const CLOSE_BRACE = 125;
/** Offset of `"to"` in the line: what {@link SplicedRelay} keeps starts there. */
const TAIL_START = '{"type":"relay",'.length;

/** Whether `line` holds `key` at `at`. */
function hasAt(line: Uint8Array, at: number, key: Uint8Array): boolean {
  if (at + key.length > line.length) return false;
  for (let i = 0; i < key.length; i++) if (line[at + i] !== key[i]) return false;
  return true;
}

/** End of a run of `cls` characters starting at `at` (1-`max` of them) at a `"`, or -1. */
function scanClass(line: Uint8Array, at: number, cls: number, max: number): number {
  let i = at;
  const limit = Math.min(line.length, at + max);
  while (i < limit && (CLASS[line[i]!]! & cls) !== 0) i++;
  return i === at || i >= line.length || line[i] !== QUOTE ? -1 : i;
}

/** Value of a Base64 alphabet character. */
function sextet(code: number): number {
  if (code >= 97) return code - 71;
  if (code >= 65) return code - 65;
  if (code >= 48) return code + 4;
  return code === 43 ? 62 : 63;
}

/**
 * Scans a canonical Base64 string (RFC 4648 §4, padded, spare bits zero: exactly what
 * `base64DecodedLength` accepts) starting at `at` and ending at a `"`. Returns the offset
 * of that quote, or -1. Nothing is decoded; {@link decodedBytes} gives the length. Reads
 * the bytes four at a time (the hot loop of the relay path: a cipher is most of a line).
 */
function scanBase64(line: Uint8Array, at: number): number {
  let i = at;
  const length = line.length;
  while (
    i + 4 <= length &&
    (CLASS[line[i]!]! &
      CLASS[line[i + 1]!]! &
      CLASS[line[i + 2]!]! &
      CLASS[line[i + 3]!]! &
      B64) !==
      0
  )
    i += 4;
  while (i < length && (CLASS[line[i]!]! & B64) !== 0) i++;
  const body = i - at;
  let padding = 0;
  while (padding < 2 && i < length && line[i] === EQUALS) {
    i++;
    padding++;
  }
  if (i >= length || line[i] !== QUOTE || (body + padding) % 4 !== 0) return -1;
  if (padding > 0) {
    if (body === 0) return -1;
    if ((sextet(line[at + body - 1]!) & (padding === 2 ? 15 : 3)) !== 0) return -1;
  }
  return i;
}

/** Decoded length of the Base64 `line[start, end)` that {@link scanBase64} accepted. */
function decodedBytes(line: Uint8Array, start: number, end: number): number {
  const padding =
    end === start ? 0 : (line[end - 1] === EQUALS ? 1 : 0) + (line[end - 2] === EQUALS ? 1 : 0);
  return ((end - start) / 4) * 3 - padding;
}

/**
 * The relay fast path: validates a client's relay line by one scan when it is in our own
 * canonical encoding, exactly
 * `{"type":"relay","to":T,"alg":A[,"header":H],"nonce":N,"cipher":C[,"id":I]}` with no
 * whitespace, no escapes, no other, duplicate or client-supplied `from` keys, every value
 * within the rules `readRelay` applies (names and ids by their character sets and lengths,
 * Base64 canonical and of the right decoded length, checked without decoding).
 * @param line one line without its newline (as {@link LineDecoder} returns it).
 * @returns the relay, whose delivery line is the original bytes with `from` spliced in
 *   (byte for byte what {@link encodeRelayDelivery} produces for the same frame); or
 *   undefined for anything else, including every invalid line: the caller then runs the
 *   full parser, which accepts or refuses it with its own error code. Never throws.
 */
export function readCanonicalRelay(line: Uint8Array): SplicedRelay | undefined {
  // The scan reads the bytes (a byte ≥ 128 is in no class); strings are made only of what
  // is kept: the recipient, the id and the tail (ASCII, so latin1 maps them 1:1).
  if (!hasAt(line, 0, HEAD_BYTES)) return undefined;
  const toStart = HEAD_BYTES.length;
  const toEnd = scanClass(line, toStart, NAME, MAX_NAME_LENGTH);
  if (toEnd < 0 || !hasAt(line, toEnd, ALG_KEY)) return undefined;
  let at = scanClass(line, toEnd + ALG_KEY.length, ALG, MAX_ALG_LENGTH);
  if (at < 0) return undefined;
  if (hasAt(line, at, HEADER_KEY)) {
    const start = at + HEADER_KEY.length;
    at = scanBase64(line, start);
    if (at < 0) return undefined;
    const bytes = decodedBytes(line, start, at);
    if (bytes < 1 || bytes > MAX_RELAY_HEADER_BYTES) return undefined;
  }
  if (!hasAt(line, at, NONCE_KEY)) return undefined;
  const nonceStart = at + NONCE_KEY.length;
  at = scanBase64(line, nonceStart);
  if (at < 0 || decodedBytes(line, nonceStart, at) !== GCM_NONCE_BYTES) return undefined;
  if (!hasAt(line, at, CIPHER_KEY)) return undefined;
  const cipherStart = at + CIPHER_KEY.length;
  const cipherEnd = scanBase64(line, cipherStart);
  if (cipherEnd < 0 || decodedBytes(line, cipherStart, cipherEnd) < GCM_TAG_BYTES) return undefined;
  at = cipherEnd;
  let idStart = -1;
  if (hasAt(line, at, ID_KEY)) {
    idStart = at + ID_KEY.length;
    at = scanClass(line, idStart, ID, MAX_MESSAGE_ID_LENGTH);
    if (at < 0) return undefined;
  }
  // `at` is on the closing quote of the last value: `"}` must end the line.
  if (at + 2 !== line.length || line[at + 1] !== CLOSE_BRACE) return undefined;
  // One latin1 decode, of the tail; the recipient and the id are slices of it.
  const tail = (
    line instanceof Buffer ? line : Buffer.from(line.buffer, line.byteOffset, line.byteLength)
  ).toString('latin1', TAIL_START);
  const to = tail.slice(toStart - TAIL_START, toEnd - TAIL_START);
  if (isForbiddenKey(to)) return undefined;
  const id = idStart < 0 ? undefined : tail.slice(idStart - TAIL_START, at - TAIL_START);
  return new SplicedRelay(to, id, cipherEnd - cipherStart, tail);
}
