import { ErrorCode, ProtocolError } from '../errors.js';
import {
  badField,
  optionalMessageId,
  requireBase64,
  requireCount,
  requireName,
  requireRoom,
} from '../fields.js';
import {
  FILE_CAP_BYTES,
  FILE_CHUNK_BYTES,
  FILE_SEALED_CHUNK_BYTES,
  isValidChunkBytes,
  MAX_FILE_CHUNK_BYTES,
  MAX_FILE_CHUNKS,
  MAX_FILE_GET_CHUNKS,
} from './file-limits.js';

/**
 * File transfer frames (protocol v2, `files` capability; docs/PROTOCOL.md "Files"). The
 * server stores opaque sealed chunks; names, keys and digests travel only inside the E2EE
 * descriptor (content.ts `t: "file"`).
 *
 * C→S: `fnew` (announce an upload), `fput` (one sealed chunk, in order), `fstat` (how far
 * an upload or file got), `fget` (ask for chunks, with the capability), `fdone` (a recipient
 * has every chunk), `fdel` (the uploader withdraws the file).
 * S→C: `fok` (the new file's id and capability), `fack` (chunks stored so far), `fstate`,
 * `fchunk` (one sealed chunk).
 */

/** Server file ids: 16 random bytes as 32 lowercase hex digits (safe in JSON and paths). */
const FILE_ID = /^[0-9a-f]{32}$/;

export function isValidFileId(value: unknown): value is string {
  return typeof value === 'string' && FILE_ID.test(value);
}

export function requireFileId(frame: Record<string, unknown>): string {
  const file = frame.file;
  if (!isValidFileId(file)) badField('field "file" must be 32 lowercase hex digits');
  return file;
}

/**
 * A sealed chunk's Base64 (`data`), decoded: 16 bytes to one full sealed chunk, standard,
 * padded and canonical. Checked by decoding and encoding again (native code): on 43 KB
 * strings far cheaper than a character scan in JavaScript, and just as strict (anything
 * outside the alphabet, or non-canonical padding bits, does not survive the round trip).
 * The bytes are returned, so no one decodes the same chunk twice.
 */
function requireSealedData(frame: Record<string, unknown>): Uint8Array {
  const data = frame.data;
  if (typeof data !== 'string') badField('field "data" must be a Base64 string');
  const maxChars = 4 * Math.ceil(FILE_SEALED_CHUNK_BYTES / 3);
  if (data.length < 24 || data.length > maxChars || data.length % 4 !== 0)
    badField(`field "data" must be Base64 of 16 to ${FILE_SEALED_CHUNK_BYTES} bytes`);
  const bytes = Buffer.from(data, 'base64');
  if (
    bytes.length < 16 ||
    bytes.length > FILE_SEALED_CHUNK_BYTES ||
    bytes.toString('base64') !== data
  )
    badField('field "data" is not standard padded canonical Base64');
  return bytes;
}

export function requireIndex(frame: Record<string, unknown>, field: string): number {
  const index = requireCount(frame, field, 'must be a chunk index');
  if (index >= MAX_FILE_CHUNKS) badField(`field "${field}" is beyond the last possible chunk`);
  return index;
}

/**
 * Sealed bytes of a whole upload of `chunks` chunks is within these bounds (`full`: the
 * sealed length of a full chunk of its chunk size).
 */
export function sealedSizeFits(
  bytes: number,
  chunks: number,
  full: number = FILE_SEALED_CHUNK_BYTES,
): boolean {
  if (chunks < 1 || chunks > MAX_FILE_CHUNKS) return false;
  const last = bytes - (chunks - 1) * full;
  return last >= 16 && last <= full;
}

/** Sealed length chunk `index` of an upload must have (`full`: a full chunk's sealed length). */
export function sealedChunkLength(
  bytes: number,
  chunks: number,
  index: number,
  full: number = FILE_SEALED_CHUNK_BYTES,
): number {
  return index < chunks - 1 ? full : bytes - (chunks - 1) * full;
}

export interface FileNewFrame {
  type: 'fnew';
  /** Message id (required): `fok` and errors name it. */
  id: string;
  /** Total sealed bytes (every chunk with its 16-byte tag). */
  bytes: number;
  chunks: number;
  /** Plaintext bytes per chunk (`cs`; binary mode only): absent means FILE_CHUNK_BYTES. */
  cs?: number;
  /** The recipient, or … */
  to?: string;
  /** … a room: its members at this moment are the recipients. */
  room?: string;
}

export interface FilePutFrame {
  type: 'fput';
  file: string;
  i: number;
  /** The sealed chunk (decoded from `data`, or the raw body of an `fputb`). */
  sealed: Uint8Array;
  /** Binary mode (`fputb`): the body length its header announced; the session attaches the body. */
  binary?: number;
}

export interface FileStatFrame {
  type: 'fstat';
  file: string;
  /** A recipient's capability; the uploader needs none. */
  cap?: string;
}

export interface FileGetFrame {
  type: 'fget';
  file: string;
  cap: string;
  /** First chunk wanted, and how many (1 to MAX_FILE_GET_CHUNKS). */
  i: number;
  n: number;
}

export interface FileDoneFrame {
  type: 'fdone';
  file: string;
  cap: string;
}

export interface FileDeleteFrame {
  type: 'fdel';
  file: string;
}

export type FileClientFrame =
  | FileNewFrame
  | FilePutFrame
  | FileStatFrame
  | FileGetFrame
  | FileDoneFrame
  | FileDeleteFrame;

export function readFileNew(frame: Record<string, unknown>): FileNewFrame {
  const id = optionalMessageId(frame);
  if (id === undefined) badField('fnew needs an "id"');
  const bytes = requireCount(frame, 'bytes', 'must be the sealed size in bytes');
  const chunks = requireCount(frame, 'chunks', 'must be a chunk count');
  let cs: number | undefined;
  if (frame.cs !== undefined && frame.cs !== null) {
    if (!isValidChunkBytes(frame.cs))
      badField(
        `field "cs" must be a power of two from ${FILE_CHUNK_BYTES} to ${MAX_FILE_CHUNK_BYTES}`,
      );
    cs = frame.cs;
  }
  if (!sealedSizeFits(bytes, chunks, (cs ?? FILE_CHUNK_BYTES) + 16))
    badField('"bytes" does not match "chunks"');
  const hasTo = frame.to !== undefined && frame.to !== null;
  const hasRoom = frame.room !== undefined && frame.room !== null;
  if (hasTo === hasRoom) badField('fnew names either "to" or "room"');
  const announce: FileNewFrame = hasTo
    ? { type: 'fnew', id, bytes, chunks, to: requireName(frame, 'to') }
    : { type: 'fnew', id, bytes, chunks, room: requireRoom(frame) };
  if (cs !== undefined && cs !== FILE_CHUNK_BYTES) announce.cs = cs;
  return announce;
}

export function readFilePut(frame: Record<string, unknown>): FilePutFrame {
  return {
    type: 'fput',
    file: requireFileId(frame),
    i: requireIndex(frame, 'i'),
    sealed: requireSealedData(frame),
  };
}

export function readFileStat(frame: Record<string, unknown>): FileStatFrame {
  const stat: FileStatFrame = { type: 'fstat', file: requireFileId(frame) };
  if (frame.cap !== undefined && frame.cap !== null)
    stat.cap = requireBase64(frame, 'cap', FILE_CAP_BYTES);
  return stat;
}

export function readFileGet(frame: Record<string, unknown>): FileGetFrame {
  const n = requireCount(frame, 'n', 'must be a chunk count');
  if (n < 1 || n > MAX_FILE_GET_CHUNKS) badField(`field "n" must be 1 to ${MAX_FILE_GET_CHUNKS}`);
  return {
    type: 'fget',
    file: requireFileId(frame),
    cap: requireBase64(frame, 'cap', FILE_CAP_BYTES),
    i: requireIndex(frame, 'i'),
    n,
  };
}

export function readFileDone(frame: Record<string, unknown>): FileDoneFrame {
  return {
    type: 'fdone',
    file: requireFileId(frame),
    cap: requireBase64(frame, 'cap', FILE_CAP_BYTES),
  };
}

export function readFileDelete(frame: Record<string, unknown>): FileDeleteFrame {
  return { type: 'fdel', file: requireFileId(frame) };
}

/** Parsers of the file frames a client may send. */
export const fileClientParsers = {
  fnew: readFileNew,
  fput: readFilePut,
  fstat: readFileStat,
  fget: readFileGet,
  fdone: readFileDone,
  fdel: readFileDelete,
} as const;

// --- S→C ----------------------------------------------------------------------------------

/** A new upload was accepted: its id and the download capability for the descriptor. */
export interface FileOkFrame {
  type: 'fok';
  id: string;
  file: string;
  cap: string;
}

/** Chunks of `file` stored so far (the next `fput` index). */
export interface FileAckFrame {
  type: 'fack';
  file: string;
  have: number;
}

/** How far a file got: chunks stored, chunks announced, and whether the upload finished. */
export interface FileStateFrame {
  type: 'fstate';
  file: string;
  have: number;
  chunks: number;
  complete: boolean;
}

export interface FileChunkFrame {
  type: 'fchunk';
  file: string;
  i: number;
  /** The sealed chunk (decoded from `data`, or the raw body of an `fchunkb`). */
  sealed: Uint8Array;
  /** Binary mode (`fchunkb`): the body length its header announced; the connection attaches it. */
  binary?: number;
}

export type FileServerFrame = FileOkFrame | FileAckFrame | FileStateFrame | FileChunkFrame;

export function readFileOk(frame: Record<string, unknown>): FileOkFrame {
  const id = optionalMessageId(frame);
  if (id === undefined) badField('fok without id');
  return {
    type: 'fok',
    id,
    file: requireFileId(frame),
    cap: requireBase64(frame, 'cap', FILE_CAP_BYTES),
  };
}

export function readFileAck(frame: Record<string, unknown>): FileAckFrame {
  return { type: 'fack', file: requireFileId(frame), have: requireIndex(frame, 'have') };
}

export function readFileState(frame: Record<string, unknown>): FileStateFrame {
  return {
    type: 'fstate',
    file: requireFileId(frame),
    have: requireIndex(frame, 'have'),
    chunks: requireIndex(frame, 'chunks'),
    complete: frame.complete === true,
  };
}

export function readFileChunk(frame: Record<string, unknown>): FileChunkFrame {
  return {
    type: 'fchunk',
    file: requireFileId(frame),
    i: requireIndex(frame, 'i'),
    sealed: requireSealedData(frame),
  };
}

/** Parsers of the file frames a server sends. */
export const fileServerParsers = {
  fok: readFileOk,
  fack: readFileAck,
  fstate: readFileState,
  fchunk: readFileChunk,
} as const;

/** Ids, counts and Base64 are validated ASCII: the encoders concatenate without escaping. */
export function encodeFileOk(id: string, file: string, cap: string): string {
  return `{"type":"fok","id":"${id}","file":"${file}","cap":"${cap}"}\n`;
}

export function encodeFileAck(file: string, have: number): string {
  return `{"type":"fack","file":"${file}","have":${have}}\n`;
}

export function encodeFileState(
  file: string,
  have: number,
  chunks: number,
  complete: boolean,
): string {
  return `{"type":"fstate","file":"${file}","have":${have},"chunks":${chunks},"complete":${complete}}\n`;
}

export function encodeFileChunk(file: string, index: number, data: string): string {
  return `{"type":"fchunk","file":"${file}","i":${index},"data":"${data}"}\n`;
}

/**
 * The start every client writes an `fput` line with. The server charges lines starting
 * with it to the file budget (its own byte rate), before parsing; any other spelling is
 * charged to the chat budget.
 */
export const FILE_PUT_PREFIX = '{"type":"fput",';

/**
 * The start every client writes an `fget` line with. Downloads are file traffic too: the
 * server charges lines starting with it to the file budget, never to the chat frame limit
 * (an `fget` dropped by the chat limit loses its chunks: the download stalls or fails).
 */
export const FILE_GET_PREFIX = '{"type":"fget",';

/** A client's `fget` line (fields in the order {@link FILE_GET_PREFIX} expects). */
export function encodeFileGet(file: string, cap: string, index: number, n: number): string {
  return `${FILE_GET_PREFIX}"file":"${file}","cap":"${cap}","i":${index},"n":${n}}\n`;
}

/** A client's `fput` line (fields in the order {@link FILE_PUT_PREFIX} expects). */
export function encodeFilePut(file: string, index: number, data: string): string {
  return `${FILE_PUT_PREFIX}"file":"${file}","i":${index},"data":"${data}"}\n`;
}

/** Throws unless `file` is a server file id (for ids read from local state). */
export function assertFileId(file: unknown): asserts file is string {
  if (!isValidFileId(file)) throw new ProtocolError(ErrorCode.BAD_FIELD, 'not a file id');
}
