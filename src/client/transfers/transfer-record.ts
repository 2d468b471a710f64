import type { FileContent } from '../../protocol/index.js';

/** An upload as the client keeps it (persisted, so it resumes after a restart). */
export interface UploadRecord {
  dir: 'up';
  /** Transfer id: 32 hex digits, bound into every chunk's AAD. */
  id: string;
  /** The local file, its size and modification time when it was hashed. */
  path: string;
  size: number;
  mtimeMs: number;
  /** A user name or a #room. */
  target: string;
  name: string;
  mime: string;
  chunks: number;
  /**
   * Plaintext bytes per chunk when not FILE_CHUNK_BYTES (binary mode's bigger chunks);
   * kept for resume, and announced in `fnew` and the descriptor (`cs`).
   */
  chunkBytes?: number;
  /** File key and plaintext SHA-256, Base64 (the digest is empty until every chunk was sent). */
  key: string;
  digest: string;
  /** The server's file id and capability, once announced. */
  file?: string;
  cap?: string;
  state: 'announcing' | 'uploading' | 'offering' | 'done' | 'failed' | 'cancelled';
  /** The offer went out (during the upload, once the server accepted the announce). */
  offered?: boolean;
  created: number;
  reason?: string;
}

/** A file offered to us, and its download once accepted. */
export interface DownloadRecord {
  dir: 'down';
  id: string;
  from: string;
  room?: string;
  offer: FileContent;
  state: 'offered' | 'downloading' | 'done' | 'failed' | 'rejected' | 'cancelled';
  created: number;
  /** The temporary file the chunks go to (0600), and where the file was saved. */
  temp?: string;
  saved?: string;
  reason?: string;
}

export type TransferRecord = UploadRecord | DownloadRecord;

/** States in which nothing more happens to a transfer. */
export const FINISHED = new Set(['done', 'failed', 'cancelled', 'rejected']);

/** The short id users type (`/accept 3f9a2c`): the first 6 hex digits of the transfer id. */
export const shortId = (id: string): string => id.slice(0, 6);
