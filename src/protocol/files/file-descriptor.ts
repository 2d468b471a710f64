import { base64DecodedLength } from '../base64.js';
import { ErrorCode, ProtocolError } from '../errors.js';
import { chunkCount } from './file-crypto.js';
import { isValidFileId } from './file-frames.js';
import {
  FILE_CAP_BYTES,
  FILE_CHUNK_BYTES,
  FILE_DIGEST_BYTES,
  FILE_KEY_BYTES,
  isValidChunkBytes,
  MAX_FILE_BYTES,
  MAX_FILE_NAME_BYTES,
  MAX_FILE_TYPE_LENGTH,
} from './file-limits.js';

/**
 * The file descriptor: what a sender tells its recipients inside the E2EE message
 * (ratchet for a person, sender key for a room) so they can fetch, open and check a file.
 * The server never sees it.
 */
export interface FileContent {
  t: 'file';
  /** Transfer id (32 hex digits): bound into every chunk's AAD. */
  tid: string;
  /** The server's file id and download capability (Base64, 32 bytes). */
  file: string;
  cap: string;
  /** The sender's file name (untrusted: receivers save under safeFileName of it). */
  name: string;
  /** Plaintext bytes, and the chunk count they make. */
  size: number;
  chunks: number;
  /**
   * Plaintext bytes per chunk (binary mode's bigger chunks); absent means FILE_CHUNK_BYTES
   * (32 KiB), so older senders' descriptors read as before.
   */
  cs?: number;
  /** Media type as the sender guessed it (shown, never acted on). */
  mime: string;
  /** AES-256-GCM file key and SHA-256 of the plaintext, Base64 (32 bytes each). */
  key: string;
  digest: string;
  /** When the sender sent it (ms since the epoch, the sender's clock). */
  ts?: number;
}

const HEX32 = /^[0-9a-f]{32}$/;
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/i;
const encoder = new TextEncoder();

const isB64 = (value: unknown, bytes: number): value is string =>
  typeof value === 'string' && base64DecodedLength(value) === bytes;

/**
 * Reads a descriptor from decrypted content into a fresh object, every field checked: a
 * peer may be hostile. A name is kept as sent (bounded) for safeFileName at save time; an
 * odd media type becomes `application/octet-stream`.
 * @throws ProtocolError `E_BAD_FIELD`.
 */
export function readFileContent(value: Record<string, unknown>): FileContent {
  const { tid, file, cap, name, size, chunks, mime, key, digest, ts, cs } = value;
  const bad = (what: string): never => {
    throw new ProtocolError(ErrorCode.BAD_FIELD, `a file offer with ${what}`);
  };
  if (typeof tid !== 'string' || !HEX32.test(tid)) bad('a bad transfer id');
  if (!isValidFileId(file)) bad('a bad file id');
  if (!isB64(cap, FILE_CAP_BYTES)) bad('a bad capability');
  if (typeof name !== 'string' || encoder.encode(name).length > MAX_FILE_NAME_BYTES)
    bad('a bad name');
  if (!Number.isSafeInteger(size) || (size as number) < 0 || (size as number) > MAX_FILE_BYTES)
    bad('a bad size');
  if (cs !== undefined && !isValidChunkBytes(cs)) bad('a bad chunk size');
  const chunkBytes = (cs as number | undefined) ?? FILE_CHUNK_BYTES;
  if (chunks !== chunkCount(size as number, chunkBytes))
    bad('a chunk count that does not match its size');
  if (!isB64(key, FILE_KEY_BYTES)) bad('a bad key');
  if (!isB64(digest, FILE_DIGEST_BYTES)) bad('a bad digest');
  const type =
    typeof mime === 'string' && mime.length <= MAX_FILE_TYPE_LENGTH && MIME.test(mime)
      ? mime.toLowerCase()
      : 'application/octet-stream';
  const content: FileContent = {
    t: 'file',
    tid: tid as string,
    file: file as string,
    cap: cap as string,
    name: name as string,
    size: size as number,
    chunks: chunks as number,
    mime: type,
    key: key as string,
    digest: digest as string,
  };
  if (chunkBytes !== FILE_CHUNK_BYTES) content.cs = chunkBytes;
  if (Number.isSafeInteger(ts) && (ts as number) > 0 && (ts as number) <= 8.64e15)
    content.ts = ts as number;
  return content;
}

/** Plaintext bytes per chunk of a descriptor's file. */
export const chunkBytesOf = (content: { cs?: number | undefined }): number =>
  content.cs ?? FILE_CHUNK_BYTES;
