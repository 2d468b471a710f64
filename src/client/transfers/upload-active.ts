import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { FILE_CHUNK_BYTES } from '../../protocol/index.js';
import type { UploadRecord } from './transfer-record.js';

/** An upload under way in this client, and the sizes it reads and sends in. */

/** Sealed chunks sent and not yet acknowledged, per upload (about 1 MiB in flight). */
export const UPLOAD_WINDOW = 32;
/** The window and the read-ahead in bytes: with bigger chunks, fewer of them (at least two). */
export const WINDOW_BYTES = UPLOAD_WINDOW * FILE_CHUNK_BYTES;
export const chunksIn = (bytes: number, chunkBytes: number): number =>
  Math.max(2, Math.floor(bytes / chunkBytes));
/** A record's plaintext bytes per chunk (records from before big chunks: 32 KiB). */
export const uploadChunkBytes = (record: UploadRecord): number =>
  record.chunkBytes ?? FILE_CHUNK_BYTES;

export interface Active {
  record: UploadRecord;
  handle?: FileHandle;
  /** Next chunk to send; chunks the server confirmed. */
  next: number;
  acked: number;
  pumping: boolean;
  /** Plaintext read ahead: chunks from `from` on, read in one go. */
  block?: { from: number; bytes: Buffer };
  /**
   * The one buffer every block is read into (a block is sealed, synchronously, before the
   * next read): no new buffer per megabyte read, so no garbage-collector work for it.
   */
  readBuffer?: Buffer;
  /**
   * SHA-256 of the plaintext sent so far, fed block by block as the upload reads the file
   * (one pass over the file, not two). Dropped when the upload did not start at chunk 0
   * (a resume): the digest is then computed from the file before the offer.
   */
  hash?: Hash;
  hashedBytes: number;
}

/** Bytes read from the file in one read (1 MiB): one file system round trip per block. */
export const READ_AHEAD_BYTES = 32 * FILE_CHUNK_BYTES;
