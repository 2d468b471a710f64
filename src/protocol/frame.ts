import { isAscii } from 'node:buffer';
import { ErrorCode, ProtocolError } from './errors.js';
import { MAX_FRAME_FIELDS, MAX_JSON_DEPTH, MAX_JSON_NODES } from './limits.js';
import { PartialLine } from './partial-line.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream into newline-terminated lines with a hard cap on line length
 * (the wire framing of protocol v1 and v2: one JSON object per `\n`-terminated line).
 *
 * The cap is enforced before the newline arrives: as soon as an unfinished line is
 * longer than `maxLineBytes`, the decoder is dead with a fatal `E_FRAME_TOO_LONG` (every
 * later `push` throws it), as ws does with `haveLength`. The cap counts the line's bytes
 * before a trailing `\r` is dropped.
 *
 * The output never depends on how the stream was cut into chunks: lines completed before
 * the over-long one are returned by the `push` that detects it (check `dead` afterwards),
 * exactly as they would have been had they arrived in an earlier chunk; when that `push`
 * completed no line, it throws at once.
 * Lines are returned as raw bytes (views into the pushed chunks where possible), so a
 * multi-byte UTF-8 character split across chunks is reassembled before decoding.
 * A trailing `\r` is dropped and empty lines are skipped.
 */
export class LineDecoder {
  readonly maxLineBytes: number;
  #partial = new PartialLine();
  #dead: ProtocolError | undefined;

  constructor(maxLineBytes: number) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes of the unfinished line held so far. */
  get bufferedBytes(): number {
    return this.#partial.bytes;
  }

  /** True once a fatal error has occurred. */
  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /**
   * Feeds a chunk and returns every line it completes (without the newline).
   * @throws ProtocolError `E_FRAME_TOO_LONG` (fatal) when a line exceeds the cap and this
   *   chunk completed no line before it, or when the decoder is already dead.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#dead) throw this.#dead;
    const lines: Uint8Array[] = [];
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      let line = this.#partial.complete(chunk.subarray(start, newline));
      if (line.length > this.maxLineBytes) return this.#fail(line.length, lines);
      if (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN) {
        line = line.subarray(0, line.length - 1);
      }
      if (line.length > 0) lines.push(line);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.#partial.bytes + rest.length > this.maxLineBytes) {
        return this.#fail(this.#partial.bytes + rest.length, lines);
      }
      this.#partial.add(rest);
    }
    return lines;
  }

  /**
   * Kills the decoder. Lines already completed in this chunk were within every limit and
   * any other chunking would have delivered them, so they are returned and the error is
   * thrown by the next `push`; with none, it is thrown now.
   */
  #fail(length: number, completed: Uint8Array[]): Uint8Array[] {
    this.#partial.clear();
    this.#dead = new ProtocolError(
      ErrorCode.FRAME_TOO_LONG,
      `line of at least ${length} bytes exceeds the ${this.maxLineBytes}-byte limit`,
      { fatal: true },
    );
    if (completed.length > 0) return completed;
    throw this.#dead;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Decodes one line into a plain JSON object, enforcing the structural bounds that make a
 * parsed frame safe to read: strict UTF-8, a JSON object at the top, at most
 * `MAX_FRAME_FIELDS` top-level keys, nesting at most `MAX_JSON_DEPTH`, at most
 * `MAX_JSON_NODES` values, and no `__proto__` / `constructor` / `prototype` keys anywhere.
 * @throws ProtocolError (non-fatal) `E_BAD_UTF8`, `E_BAD_JSON`, `E_NOT_OBJECT`,
 *   `E_JSON_TOO_COMPLEX` or `E_FORBIDDEN_KEY`.
 */
export function decodeJsonLine(line: Uint8Array): Record<string, unknown> {
  let text: string;
  if (isAscii(line)) {
    // ASCII is valid UTF-8 and latin1-decodes to the same string, much faster.
    text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('latin1');
  } else {
    try {
      text = utf8.decode(line);
    } catch (cause) {
      throw new ProtocolError(ErrorCode.BAD_UTF8, 'frame is not valid UTF-8', { cause });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ProtocolError(ErrorCode.BAD_JSON, 'frame is not valid JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(ErrorCode.NOT_OBJECT, 'frame must be a JSON object');
  }
  checkStructure(value as Record<string, unknown>);
  return value as Record<string, unknown>;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * True for the keys no frame may use anywhere (`__proto__`, `constructor`, `prototype`).
 * Names are keys of directory and member objects, so no user may be called one of these.
 */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

/** Iterative walk (no recursion, so no stack overflow on hostile nesting). */
function checkStructure(frame: Record<string, unknown>): void {
  let fields = 0;
  const stack: Array<{ value: object; depth: number }> = [];
  for (const key in frame) {
    if (FORBIDDEN_KEYS.has(key)) forbidden(key);
    if (++fields > MAX_FRAME_FIELDS) {
      throw new ProtocolError(
        ErrorCode.JSON_TOO_COMPLEX,
        `frame has more than ${MAX_FRAME_FIELDS} fields`,
      );
    }
    const child = frame[key];
    if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: 2 });
  }
  let nodes = fields;
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) {
      throw new ProtocolError(
        ErrorCode.JSON_TOO_COMPLEX,
        `frame nests deeper than ${MAX_JSON_DEPTH} levels`,
      );
    }
    const isArray = Array.isArray(value);
    for (const key in value) {
      if (!isArray && FORBIDDEN_KEYS.has(key)) forbidden(key);
      if (++nodes > MAX_JSON_NODES) {
        throw new ProtocolError(
          ErrorCode.JSON_TOO_COMPLEX,
          `frame has more than ${MAX_JSON_NODES} values`,
        );
      }
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, depth: depth + 1 });
      }
    }
  }
}

function forbidden(key: string): never {
  throw new ProtocolError(ErrorCode.FORBIDDEN_KEY, `frame uses the forbidden key "${key}"`);
}

/** Serializes a frame object as one wire line (JSON + `\n`). */
export function encodeFrame(frame: object): Uint8Array {
  return encoder.encode(`${JSON.stringify(frame)}\n`);
}

/** Same as {@link encodeFrame} but returns the string form (for writers that take strings). */
export function encodeFrameText(frame: object): string {
  return `${JSON.stringify(frame)}\n`;
}
