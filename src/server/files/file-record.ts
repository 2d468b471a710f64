import { createHash } from 'node:crypto';
import {
  type ErrorCode,
  FILE_CHUNK_BYTES,
  sealedChunkBytes,
  sealedChunkLength,
} from '../../protocol/index.js';

/** A stored file's record (`<id>.json` in the chunk store) and what is derived from it. */

export interface FileRecord {
  id: string;
  /** Identity key (Base64) and name of the uploader. */
  owner: string;
  ownerName: string;
  bytes: number;
  chunks: number;
  /**
   * Plaintext bytes per chunk when not FILE_CHUNK_BYTES (`cs` of the `fnew`, binary mode):
   * chunks sit at multiples of its sealed size. Absent in records from before big chunks.
   */
  chunkBytes?: number;
  /** Name keys of the recipients (a room's members when it was sent). */
  recipients: string[];
  /** SHA-256 (hex) of the download capability: the capability itself is never stored. */
  capHash: string;
  created: number;
  expires: number;
  /** The last chunk arrived. */
  complete: boolean;
}

export class FileStoreError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export const capHashOf = (cap: Buffer): string => createHash('sha256').update(cap).digest('hex');

/** A record's plaintext bytes per chunk. */
export const recordChunkBytes = (record: FileRecord): number =>
  record.chunkBytes ?? FILE_CHUNK_BYTES;
/** Sealed bytes of a full chunk of a record (its chunks' stride in the chunk file). */
export const recordSealedChunk = (record: FileRecord): number =>
  sealedChunkBytes(recordChunkBytes(record));
/** Sealed length of chunk `index` of a record. */
export const lengthOf = (record: FileRecord, index: number): number =>
  sealedChunkLength(record.bytes, record.chunks, index, recordSealedChunk(record));
