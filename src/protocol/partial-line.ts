/**
 * The unfinished line a decoder holds between chunks. Parts are copied in: the caller may
 * reuse its buffer once `push` returns.
 */
export class PartialLine {
  #parts: Uint8Array[] = [];
  #bytes = 0;

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Holds a copy of `part` (the start, or a further piece, of a line not finished yet). */
  add(part: Uint8Array): void {
    this.#parts.push(part.slice());
    this.#bytes += part.length;
  }

  /**
   * The held bytes followed by `tail`, as one line (`tail` itself when nothing is held);
   * holds nothing afterwards.
   */
  complete(tail: Uint8Array): Uint8Array {
    if (this.#bytes === 0) return tail;
    const line = new Uint8Array(this.#bytes + tail.length);
    let offset = 0;
    for (const part of this.#parts) {
      line.set(part, offset);
      offset += part.length;
    }
    line.set(tail, offset);
    this.clear();
    return line;
  }

  /** Drops what is held. */
  clear(): void {
    this.#parts = [];
    this.#bytes = 0;
  }
}
