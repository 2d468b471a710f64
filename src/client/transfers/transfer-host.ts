import type { FileContent } from '../../protocol/index.js';
import type { TransferEvent } from '../events.js';
import type { TransferRecord } from './transfer-record.js';

/** What uploads and downloads need of the transfer manager (and through it, the client). */
export interface TransferHost {
  now(): number;
  /** Welcomed, with the `files` capability. */
  ready(): boolean;
  /** The server offers binary chunks (`fbin`): uploads send `fputb` headers and raw bytes. */
  binaryChunks(): boolean;
  /**
   * Plaintext bytes per chunk for a new upload: FILE_BINARY_CHUNK_BYTES (or the server's
   * `maxchunk`, if smaller) in binary mode, else FILE_CHUNK_BYTES.
   */
  chunkBytes(): number;
  /** The server holds fgets for chunks not stored yet (`fhold`): offer during the upload. */
  offerEarly(): boolean;
  /**
   * A frame, a pre-encoded line (ending in a newline), raw bytes, or the parts of one binary
   * chunk (header, ciphertext, tag) written together.
   */
  send(frame: object | string | Uint8Array | readonly Uint8Array[]): boolean;
  save(record: TransferRecord): void;
  /** `fresh` takes the place of `old` (an upload started over). */
  replace(old: TransferRecord, fresh: TransferRecord): void;
  /** Sends a descriptor end to end; true, or why not. */
  sendOffer(target: string, content: FileContent): Promise<true | string>;
  /** Reports a transfer's phase (progress is throttled by the manager). */
  progress(
    record: TransferRecord,
    phase: TransferEvent['phase'],
    bytes: number,
    extra?: { reason?: string; code?: string; path?: string },
  ): void;
}
