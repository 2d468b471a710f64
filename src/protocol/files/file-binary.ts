import { badField, requireCount } from '../fields.js';
import { decodeJsonLine } from '../frame.js';
import type { BodyRule } from '../stream-decoder.js';
import {
  type FileChunkFrame,
  type FilePutFrame,
  requireFileId,
  requireIndex,
} from './file-frames.js';
import { MAX_FILE_CHUNK_BYTES, sealedChunkBytes } from './file-limits.js';

/**
 * Binary chunk mode (capability `fbin`; docs/PROTOCOL.md "Files"): a sealed chunk travels as
 * a short JSON header line announcing `len`, followed by exactly `len` raw bytes — no Base64
 * (4/3 the bytes) and no 43 KB JSON parse on either leg. Used in a direction only when both
 * sides announced `fbin`: a client sends `fputb` when the welcome offers it, the server sends
 * `fchunkb` when the hello announced it. Bodies are at most one sealed chunk
 * ({@link MAX_BINARY_BODY_BYTES}); the stream decoder refuses more (fatal `E_BODY_TOO_LONG`).
 */

/**
 * Largest raw body a header may announce: one full sealed chunk of the largest chunk size
 * (MAX_FILE_CHUNK_BYTES). Each file record's own chunk size bounds its chunks further.
 */
export const MAX_BINARY_BODY_BYTES = sealedChunkBytes(MAX_FILE_CHUNK_BYTES);

/** Every upload header starts with these bytes (the decoder and the file budget look for them). */
export const FILE_PUT_BINARY_PREFIX = '{"type":"fputb",';
/** Every download header starts with these bytes. */
export const FILE_CHUNK_BINARY_PREFIX = '{"type":"fchunkb",';

/** Header of a binary upload chunk; the `len` sealed bytes follow it on the wire. */
export function encodeFilePutHeader(file: string, index: number, len: number): string {
  return `${FILE_PUT_BINARY_PREFIX}"file":"${file}","i":${index},"len":${len}}\n`;
}

/** Header of a binary download chunk; the `len` sealed bytes follow it on the wire. */
export function encodeFileChunkHeader(file: string, index: number, len: number): string {
  return `${FILE_CHUNK_BINARY_PREFIX}"file":"${file}","i":${index},"len":${len}}\n`;
}

/** The `len` a header line announces (what the stream decoder reads before the body). */
function headerLength(header: Uint8Array): number {
  const len = decodeJsonLine(header).len;
  if (typeof len !== 'number' || !Number.isSafeInteger(len) || len < 0)
    badField('field "len" must be a byte count');
  return len;
}

const rule = (prefix: string): BodyRule => ({
  prefix: Buffer.from(prefix, 'latin1'),
  maxBodyBytes: MAX_BINARY_BODY_BYTES,
  length: headerLength,
});

/** The server's decoder rule once a session negotiated `fbin`. */
export const PUT_BODY_RULE: BodyRule = rule(FILE_PUT_BINARY_PREFIX);
/** The client's decoder rule (it announced `fbin`, so a server may send `fchunkb`). */
export const CHUNK_BODY_RULE: BodyRule = rule(FILE_CHUNK_BINARY_PREFIX);

const NO_BYTES = new Uint8Array(0);

function requireBodyLength(frame: Record<string, unknown>): number {
  const len = requireCount(frame, 'len', 'must be the sealed chunk length');
  if (len < 16 || len > MAX_BINARY_BODY_BYTES)
    badField(`field "len" must be 16 to ${MAX_BINARY_BODY_BYTES}`);
  return len;
}

/** `fputb` header: an `fput` whose sealed bytes the session attaches from the raw body. */
export function readFilePutBinary(frame: Record<string, unknown>): FilePutFrame {
  return {
    type: 'fput',
    file: requireFileId(frame),
    i: requireIndex(frame, 'i'),
    sealed: NO_BYTES,
    binary: requireBodyLength(frame),
  };
}

/** `fchunkb` header: an `fchunk` whose sealed bytes the connection attaches from the body. */
export function readFileChunkBinary(frame: Record<string, unknown>): FileChunkFrame {
  return {
    type: 'fchunk',
    file: requireFileId(frame),
    i: requireIndex(frame, 'i'),
    sealed: NO_BYTES,
    binary: requireBodyLength(frame),
  };
}

/**
 * Joins a header frame and the raw body the decoder returned after it.
 * @returns the frame with its bytes, or why they do not belong together.
 */
export function attachBody<F extends { sealed: Uint8Array; binary?: number }>(
  frame: F,
  body: Uint8Array | undefined,
): F | string {
  if (frame.binary === undefined)
    return body === undefined ? frame : 'a raw body follows a frame that is not a binary header';
  if (body === undefined) return 'binary chunk header without binary mode (fbin) negotiated';
  if (body.length !== frame.binary) return 'binary body length differs from its header';
  frame.sealed = body;
  return frame;
}

export const fileBinaryClientParsers = { fputb: readFilePutBinary } as const;
export const fileBinaryServerParsers = { fchunkb: readFileChunkBinary } as const;
