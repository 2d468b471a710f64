import { ErrorCode, ProtocolError } from './errors.js';
import { PartialLine } from './partial-line.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Raw bytes that followed a header line (binary chunk mode): never read as a line. */
export class RawBody {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

/** What {@link StreamDecoder.push} returns, in stream order: lines, and a body right after its header. */
export type StreamItem = Uint8Array | RawBody;

/**
 * Which lines announce a raw body. Pure: `length` reads the header line only.
 */
export interface BodyRule {
  /** A line that starts with these bytes is a header. */
  readonly prefix: Uint8Array;
  /** Largest body a header may announce (the negotiated maximum). */
  readonly maxBodyBytes: number;
  /**
   * The body length a header announces.
   * @throws ProtocolError for a header that does not say it (the stream cannot go on).
   */
  length(header: Uint8Array): number;
}

function startsWith(line: Uint8Array, prefix: Uint8Array): boolean {
  if (line.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (line[i] !== prefix[i]) return false;
  return true;
}

/**
 * Splits a byte stream into newline-terminated lines (exactly as {@link LineDecoder}: a hard
 * cap enforced before the newline arrives, a trailing `\r` dropped, empty lines skipped,
 * fatal `E_FRAME_TOO_LONG`) and, once {@link enableBodies} was called, into the raw bodies
 * announced by header lines (binary chunk mode, docs/PROTOCOL.md "Files"): a header line
 * matching the rule's prefix is followed by exactly the number of bytes it announces; once
 * they are all in, the header is returned with a {@link RawBody} right after it (never one
 * without the other) — whatever the body holds (newlines, JSON), it is never read as lines.
 *
 * Hostile-safe: a header announcing more than `maxBodyBytes`, or one whose length cannot be
 * read, kills the decoder (fatal `E_BODY_TOO_LONG` / `E_BAD_FIELD`: the stream cannot be
 * resynchronised); the header itself is not returned. A body is held in one buffer of the
 * announced size (bounded by the maximum); a body that never completes returns nothing, so
 * the session's idle timeout ends it. Pure: no I/O, and the output never depends on how the
 * stream was cut into chunks (items completed before a fatal error are returned by the
 * `push` that found it; the error is thrown by the next, or at once when there are none).
 */
export class StreamDecoder {
  readonly maxLineBytes: number;
  #partial = new PartialLine();
  #rule: BodyRule | undefined;
  /** The header of the body being read (returned with it, never alone), and the body. */
  #header: Uint8Array | undefined;
  #body: Uint8Array | undefined;
  #bodyFilled = 0;
  #dead: ProtocolError | undefined;
  /**
   * `reuseBodies`: the buffer bodies are read into, kept for the next body (a body is then
   * valid only until the next push), and whether this push already returned it.
   */
  #reuse = false;
  #allocate: ((length: number) => Uint8Array) | undefined;
  #spare: Buffer | undefined;
  #lent = false;

  constructor(maxLineBytes: number) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * From now on, lines matching `rule` announce a raw body (after negotiation).
   * @param options.reuseBodies read every body into one buffer, reused by the bodies of later
   *   pushes (never two bodies of one push): for a caller that is done with a body before it
   *   pushes again (it opens each chunk at once), so no buffer is allocated per body.
   * @param options.allocate where bodies are read (a buffer of exactly the length asked):
   *   a caller that keeps bodies a while can hand out pooled buffers and take them back.
   */
  enableBodies(
    rule: BodyRule,
    options: { reuseBodies?: boolean; allocate?: (length: number) => Uint8Array } = {},
  ): void {
    this.#rule = rule;
    this.#reuse = options.reuseBodies === true;
    this.#allocate = options.allocate;
  }

  /** Bytes of the unfinished line, or of the header and body being read, held so far. */
  get bufferedBytes(): number {
    return this.#body ? this.#header!.length + this.#bodyFilled : this.#partial.bytes;
  }

  /** True once a fatal error has occurred. */
  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /**
   * Feeds a chunk; returns every line and body it completes, in order.
   * @throws ProtocolError (fatal) when this chunk completed nothing before the fault, or when
   *   the decoder is already dead.
   */
  push(chunk: Uint8Array): StreamItem[] {
    if (this.#dead) throw this.#dead;
    const items: StreamItem[] = [];
    this.#lent = false;
    let start = 0;
    while (start < chunk.length) {
      const body = this.#body;
      if (body) {
        const take = Math.min(chunk.length - start, body.length - this.#bodyFilled);
        body.set(chunk.subarray(start, start + take), this.#bodyFilled);
        this.#bodyFilled += take;
        start += take;
        if (this.#bodyFilled === body.length) this.#bodyDone(items);
        continue;
      }
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) {
        const rest = chunk.subarray(start);
        if (this.#partial.bytes + rest.length > this.maxLineBytes)
          return this.#fail(this.#tooLong(this.#partial.bytes + rest.length), items);
        this.#partial.add(rest);
        break;
      }
      let line = this.#partial.complete(chunk.subarray(start, newline));
      start = newline + 1;
      if (line.length > this.maxLineBytes) return this.#fail(this.#tooLong(line.length), items);
      if (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN)
        line = line.subarray(0, line.length - 1);
      if (line.length === 0) continue;
      const rule = this.#rule;
      if (rule !== undefined && startsWith(line, rule.prefix)) {
        const fault = this.#openBody(rule, line);
        if (fault) return this.#fail(fault, items);
        // Copy: a header waiting for its body outlives the chunk it came in.
        this.#header = line.slice();
        if (this.#body!.length === 0) this.#bodyDone(items);
      } else items.push(line);
    }
    return items;
  }

  /** A body is complete: its header and it, side by side. */
  #bodyDone(items: StreamItem[]): void {
    items.push(this.#header!, new RawBody(this.#body!));
    if (this.#spare !== undefined && this.#body!.buffer === this.#spare.buffer) this.#lent = true;
    this.#header = undefined;
    this.#body = undefined;
    this.#bodyFilled = 0;
  }

  /** Starts the body a header announces; the fault instead when its length is not allowed. */
  #openBody(rule: BodyRule, header: Uint8Array): ProtocolError | undefined {
    let length: number;
    try {
      length = rule.length(header);
    } catch (error) {
      const message = error instanceof Error ? error.message : 'bad header';
      return new ProtocolError(ErrorCode.BAD_FIELD, `binary chunk header: ${message}`, {
        fatal: true,
      });
    }
    if (!Number.isSafeInteger(length) || length < 0)
      return new ProtocolError(ErrorCode.BAD_FIELD, 'binary chunk header: bad length', {
        fatal: true,
      });
    if (length > rule.maxBodyBytes)
      return new ProtocolError(
        ErrorCode.BODY_TOO_LONG,
        `binary body of ${length} bytes exceeds the ${rule.maxBodyBytes}-byte limit`,
        { fatal: true },
      );
    this.#body = this.#bodyBuffer(length);
    this.#bodyFilled = 0;
    return undefined;
  }

  /** A buffer for a body of `length` bytes: the reused one when allowed and free. */
  #bodyBuffer(length: number): Uint8Array {
    if (this.#allocate) return this.#allocate(length);
    if (!this.#reuse || this.#lent) return Buffer.allocUnsafe(length);
    if (!this.#spare || this.#spare.length < length) this.#spare = Buffer.allocUnsafeSlow(length);
    return this.#spare.subarray(0, length);
  }

  #tooLong(length: number): ProtocolError {
    return new ProtocolError(
      ErrorCode.FRAME_TOO_LONG,
      `line of at least ${length} bytes exceeds the ${this.maxLineBytes}-byte limit`,
      { fatal: true },
    );
  }

  /** Kills the decoder: items already complete are returned, the error thrown next time. */
  #fail(error: ProtocolError, completed: StreamItem[]): StreamItem[] {
    this.#partial.clear();
    this.#header = undefined;
    this.#body = undefined;
    this.#dead = error;
    if (completed.length > 0) return completed;
    throw error;
  }
}
