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
const HEAD_BYTES = Uint8Array.from(HEAD, (c) => c.charCodeAt(0));
const ALG_KEY = '","alg":"';
const HEADER_KEY = '","header":"';
const NONCE_KEY = '","nonce":"';
const CIPHER_KEY = '","cipher":"';
const ID_KEY = '","id":"';
const QUOTE = 34;
const EQUALS = 61;
/** Offset of `"to"` in the line: what {@link SplicedRelay} keeps starts there. */
const TAIL_START = '{"type":"relay",'.length;

/** End of a run of `cls` characters starting at `at` (1-`max` of them) at a `"`, or -1. */
function scanClass(text: string, at: number, cls: number, max: number): number {
  let i = at;
  const limit = Math.min(text.length, at + max);
  while (i < limit && (CLASS[text.charCodeAt(i)]! & cls) !== 0) i++;
  return i === at || text.charCodeAt(i) !== QUOTE ? -1 : i;
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
 * of that quote, or -1. Nothing is decoded; {@link decodedBytes} gives the length.
 */
function scanBase64(text: string, at: number): number {
  let i = at;
  const length = text.length;
  while (i < length && (CLASS[text.charCodeAt(i)]! & B64) !== 0) i++;
  const body = i - at;
  let padding = 0;
  while (padding < 2 && text.charCodeAt(i) === EQUALS) {
    i++;
    padding++;
  }
  if (text.charCodeAt(i) !== QUOTE || (body + padding) % 4 !== 0) return -1;
  if (padding > 0) {
    if (body === 0) return -1;
    if ((sextet(text.charCodeAt(at + body - 1)) & (padding === 2 ? 15 : 3)) !== 0) return -1;
  }
  return i;
}

/** Decoded length of the Base64 `text[start, end)` that {@link scanBase64} accepted. */
function decodedBytes(text: string, start: number, end: number): number {
  const padding =
    end === start
      ? 0
      : (text.charCodeAt(end - 1) === EQUALS ? 1 : 0) +
        (text.charCodeAt(end - 2) === EQUALS ? 1 : 0);
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
  if (line.length < HEAD_BYTES.length) return undefined;
  for (let i = 0; i < HEAD_BYTES.length; i++) if (line[i] !== HEAD_BYTES[i]) return undefined;
  // One latin1 decode (bytes map 1:1 to UTF-16 units, so a non-ASCII byte stays outside
  // every class); the scan reads characters and keeps slices of this one string.
  const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('latin1');
  const toStart = HEAD.length;
  const toEnd = scanClass(text, toStart, NAME, MAX_NAME_LENGTH);
  if (toEnd < 0 || !text.startsWith(ALG_KEY, toEnd)) return undefined;
  let at = scanClass(text, toEnd + ALG_KEY.length, ALG, MAX_ALG_LENGTH);
  if (at < 0) return undefined;
  if (text.startsWith(HEADER_KEY, at)) {
    const start = at + HEADER_KEY.length;
    at = scanBase64(text, start);
    if (at < 0) return undefined;
    const bytes = decodedBytes(text, start, at);
    if (bytes < 1 || bytes > MAX_RELAY_HEADER_BYTES) return undefined;
  }
  if (!text.startsWith(NONCE_KEY, at)) return undefined;
  const nonceStart = at + NONCE_KEY.length;
  at = scanBase64(text, nonceStart);
  if (at < 0 || decodedBytes(text, nonceStart, at) !== GCM_NONCE_BYTES) return undefined;
  if (!text.startsWith(CIPHER_KEY, at)) return undefined;
  const cipherStart = at + CIPHER_KEY.length;
  const cipherEnd = scanBase64(text, cipherStart);
  if (cipherEnd < 0 || decodedBytes(text, cipherStart, cipherEnd) < GCM_TAG_BYTES) return undefined;
  at = cipherEnd;
  let id: string | undefined;
  if (text.startsWith(ID_KEY, at)) {
    const idStart = at + ID_KEY.length;
    at = scanClass(text, idStart, ID, MAX_MESSAGE_ID_LENGTH);
    if (at < 0) return undefined;
    id = text.slice(idStart, at);
  }
  // `at` is on the closing quote of the last value: `"}` must end the line.
  if (at + 2 !== text.length || text.charCodeAt(at + 1) !== 125) return undefined;
  const to = text.slice(toStart, toEnd);
  if (isForbiddenKey(to)) return undefined;
  return new SplicedRelay(to, id, cipherEnd - cipherStart, text.slice(TAIL_START));
}
