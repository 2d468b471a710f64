import { FILE_CHUNK_BYTES, MAX_FILE_CHUNK_BYTES, sealedChunkBytes } from '../../protocol/index.js';

/**
 * Buffers for the raw bodies of uploaded chunks (`fputb`), reused: a body is held from its
 * last byte until it is on disk (a few milliseconds, across the collector's young-generation
 * passes), so fresh buffers were promoted and then freed only by full collections — about
 * twenty of them in a 200 MiB upload. A body gets a buffer of the smallest chunk size that
 * holds it (32 KiB to 1 MiB, sealed); `release` takes it back once written. At most
 * `kept` free buffers per size are kept: memory stays bounded, and a body whose buffer is
 * never released (a refused chunk) is simply collected.
 */
export class BodyPool {
  readonly kept: number;
  #free = new Map<number, Buffer[]>();
  /** The buffers this pool made (only those go back to it). */
  #mine = new WeakSet<ArrayBufferLike>();

  constructor(kept = 8) {
    this.kept = kept;
  }

  /** A buffer of exactly `length` bytes for a body (a view of a pooled one). */
  allocate(length: number): Uint8Array {
    const size = sizeFor(length);
    if (size === undefined) return Buffer.allocUnsafe(length);
    const buffer = this.#free.get(size)?.pop() ?? this.#make(size);
    return buffer.subarray(0, length);
  }

  /** Takes back a body's buffer once nothing refers to its bytes (the chunk is on disk). */
  release(body: Uint8Array): void {
    const whole = body.buffer;
    if (!this.#mine.has(whole) || body.byteOffset !== 0) return;
    const free = this.#free.get(whole.byteLength) ?? [];
    this.#free.set(whole.byteLength, free);
    if (free.length < this.kept) free.push(Buffer.from(whole));
  }

  /** Free buffers of `size` bytes (for tests). */
  freeOf(size: number): number {
    return this.#free.get(size)?.length ?? 0;
  }

  #make(size: number): Buffer {
    const buffer = Buffer.allocUnsafeSlow(size);
    this.#mine.add(buffer.buffer);
    return buffer;
  }
}

/** The sealed size of the smallest chunk size holding `length` bytes; undefined past 1 MiB. */
export function sizeFor(length: number): number | undefined {
  for (let chunk = FILE_CHUNK_BYTES; chunk <= MAX_FILE_CHUNK_BYTES; chunk *= 2)
    if (length <= sealedChunkBytes(chunk)) return sealedChunkBytes(chunk);
  return undefined;
}
