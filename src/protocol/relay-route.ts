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

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const HEAD = ascii('{"type":"relay","to":"');
const ALG_KEY = ascii('","alg":"');
const HEADER_KEY = ascii('","header":"');
const NONCE_KEY = ascii('","nonce":"');
const CIPHER_KEY = ascii('","cipher":"');
const ID_KEY = ascii('","id":"');
const QUOTE = 34;
/** Offset of `"to"` in the line: what {@link SplicedRelay} keeps starts there. */
const TAIL_START = '{"type":"relay",'.length;

function startsWith(line: Uint8Array, at: number, bytes: Uint8Array): boolean {
  if (at + bytes.length > line.length) return false;
  for (let i = 0; i < bytes.length; i++) if (line[at + i] !== bytes[i]) return false;
  return true;
}

/** End of a run of `cls` characters starting at `at` (1-`max` of them), or -1. */
function scanClass(line: Uint8Array, at: number, cls: number, max: number): number {
  let i = at;
  const limit = Math.min(line.length, at + max);
  while (i < limit && (CLASS[line[i]!]! & cls) !== 0) i++;
  if (i === at || (i < line.length && line[i] !== QUOTE)) return -1;
  return i;
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
 * `base64DecodedLength` accepts) starting at `at` and ending at a `"`. Returns the end
 * offset and the decoded byte length, or undefined. Nothing is decoded.
 */
function scanBase64(line: Uint8Array, at: number): { end: number; bytes: number } | undefined {
  let i = at;
  while (i < line.length && (CLASS[line[i]!]! & B64) !== 0) i++;
  const body = i - at;
  let padding = 0;
  while (padding < 2 && line[i] === 61) {
    i++;
    padding++;
  }
  if (line[i] !== QUOTE || (body + padding) % 4 !== 0) return undefined;
  if (padding > 0) {
    if (body === 0) return undefined;
    if ((sextet(line[at + body - 1]!) & (padding === 2 ? 15 : 3)) !== 0) return undefined;
  }
  return { end: i, bytes: ((body + padding) / 4) * 3 - padding };
}

const latin1 = (line: Uint8Array, start: number, end: number): string =>
  Buffer.from(line.buffer, line.byteOffset + start, end - start).toString('latin1');

/**
 * The relay fast path: validates a client's relay line by one scan of its bytes when it is
 * in our own canonical encoding, exactly
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
  if (!startsWith(line, 0, HEAD)) return undefined;
  const toStart = HEAD.length;
  const toEnd = scanClass(line, toStart, NAME, MAX_NAME_LENGTH);
  if (toEnd < 0 || !startsWith(line, toEnd, ALG_KEY)) return undefined;
  const algEnd = scanClass(line, toEnd + ALG_KEY.length, ALG, MAX_ALG_LENGTH);
  if (algEnd < 0) return undefined;
  let at = algEnd;
  if (startsWith(line, at, HEADER_KEY)) {
    const header = scanBase64(line, at + HEADER_KEY.length);
    if (!header || header.bytes < 1 || header.bytes > MAX_RELAY_HEADER_BYTES) return undefined;
    at = header.end;
  }
  if (!startsWith(line, at, NONCE_KEY)) return undefined;
  const nonce = scanBase64(line, at + NONCE_KEY.length);
  if (!nonce || nonce.bytes !== GCM_NONCE_BYTES) return undefined;
  if (!startsWith(line, nonce.end, CIPHER_KEY)) return undefined;
  const cipherStart = nonce.end + CIPHER_KEY.length;
  const cipher = scanBase64(line, cipherStart);
  if (!cipher || cipher.bytes < GCM_TAG_BYTES) return undefined;
  at = cipher.end;
  let id: string | undefined;
  if (startsWith(line, at, ID_KEY)) {
    const idStart = at + ID_KEY.length;
    at = scanClass(line, idStart, ID, MAX_MESSAGE_ID_LENGTH);
    if (at < 0) return undefined;
    id = latin1(line, idStart, at);
  }
  // `at` is on the closing quote of the last value: `"}` must end the line.
  if (at + 2 !== line.length || line[at] !== QUOTE || line[at + 1] !== 125) return undefined;
  const to = latin1(line, toStart, toEnd);
  if (isForbiddenKey(to)) return undefined;
  return new SplicedRelay(to, id, cipher.end - cipherStart, latin1(line, TAIL_START, line.length));
}
