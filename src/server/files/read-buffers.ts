import {
  FILE_CHUNK_BYTES,
  MAX_FILE_CHUNK_BYTES,
  maxGetChunks,
  sealedChunkBytes,
} from '../../protocol/index.js';

/**
 * Sized for the largest batch one `fget` reads: sixteen 32 KiB chunks, or one of the
 * largest chunk size.
 */
export const READ_BUFFER_BYTES = Math.max(
  maxGetChunks(FILE_CHUNK_BYTES) * sealedChunkBytes(FILE_CHUNK_BYTES),
  sealedChunkBytes(MAX_FILE_CHUNK_BYTES),
);

/**
 * The buffers downloads read chunks into, kept for reuse: each batch is copied into its
 * replies before its buffer is put back, so a download allocates no buffer per batch (a
 * 200 MiB download was 200 MiB of garbage, and the collector's work for it). At most
 * `kept` exist (about 1 MiB each); when all are in use, `take` gives none and the read
 * allocates what it needs, as before: memory stays bounded however many download at once.
 */
export class ReadBuffers {
  readonly kept: number;
  #free: Buffer[] = [];
  #made = 0;

  constructor(kept = 4) {
    this.kept = kept;
  }

  /** A free buffer (made while fewer than `kept` exist), or undefined. */
  take(): Buffer | undefined {
    const free = this.#free.pop();
    if (free) return free;
    if (this.#made >= this.kept) return undefined;
    this.#made++;
    return Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  }

  /** Buffers waiting to be taken (for tests). */
  get free(): number {
    return this.#free.length;
  }

  /** Puts back a buffer from `take` once nothing refers to its bytes any more. */
  put(buffer: Buffer | undefined): void {
    if (buffer) this.#free.push(buffer);
  }
}
