import {
  ErrorCode,
  encodeError,
  FILE_GET_PREFIX,
  FILE_PUT_BINARY_PREFIX,
  FILE_PUT_PREFIX,
  FILE_SEALED_CHUNK_BYTES,
  PUT_BODY_RULE,
  RawBody,
  refOfLine,
  StreamDecoder,
  type StreamItem,
} from '../protocol/index.js';
import type { Clock } from './clock.js';
import { type RateLimits, SessionRate } from './limits/session-rate.js';
import { TokenBucket } from './limits/token-bucket.js';
import type { SessionLog } from './session-log.js';
import type { ServerStats } from './stats.js';
import type { Transport } from './transport.js';

/** What the input side needs of its session. */
export interface InputHost {
  readonly closed: boolean;
  /** True while the client's output queue is full: its input waits until it reads. */
  readonly congested: boolean;
  /**
   * Handles one line (with the raw body that followed it, for a binary chunk header); a
   * promise means the next line waits until it settled (never rejects).
   */
  handleLine(line: Uint8Array, body?: Uint8Array): Promise<void> | undefined;
  readonly log: SessionLog;
  reply(line: string, kind: string): boolean;
  /** The decoder refused the input (an over-long line): the connection ends. */
  refuse(error: unknown): void;
  /** Sustained flooding: the connection ends. */
  flooding(): void;
  /** Ask to be called back ({@link SessionInput.resume}) once the client read its queue. */
  waitForDrain(): void;
}

const NO_BYTES = new Uint8Array(0);
const PUT_PREFIX = Buffer.from(FILE_PUT_PREFIX, 'latin1');
const GET_PREFIX = Buffer.from(FILE_GET_PREFIX, 'latin1');
const PUT_BINARY_PREFIX = Buffer.from(FILE_PUT_BINARY_PREFIX, 'latin1');

/** The file budget: chunk uploads have their own byte rate, apart from the chat limits. */
export interface FileRate {
  bytesPerSecond: number;
  burst: number;
}

function startsWith(line: Uint8Array, prefix: Uint8Array): boolean {
  if (line.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (line[i] !== prefix[i]) return false;
  return true;
}

/**
 * What a file line costs the file budget, or undefined for a line the chat limits count.
 * An `fput` costs its bytes; an `fget` costs its bytes plus one sealed chunk, so a flood of
 * tiny requests (each a disk read) stays bounded while real downloads, paced by the client's
 * output queue, are never dropped by the chat frame limit.
 */
export function fileLineCost(line: Uint8Array): number | undefined {
  if (startsWith(line, PUT_PREFIX) || startsWith(line, PUT_BINARY_PREFIX)) return line.length + 1;
  if (startsWith(line, GET_PREFIX)) return line.length + 1 + FILE_SEALED_CHUNK_BYTES;
  return undefined;
}

/**
 * One connection's input: bytes to lines (bounded, refused before the newline arrives),
 * the per-connection rate limit, order, and backpressure. Lines are handled one at a time:
 * while a handler is waiting (on the store), the next lines wait, so a client's frames are
 * answered in the order it sent them. While the client is not reading what it is sent, or
 * lines wait behind a handler, its socket is paused, so asking cannot grow its queue.
 */
export class SessionInput {
  #host: InputHost;
  #transport: Transport;
  #stats: ServerStats;
  #now: () => number;
  #decoder: StreamDecoder;
  #rate: SessionRate | undefined;
  #fileBucket: TokenBucket | undefined;
  #clock: Clock | undefined;
  #fileWait = false;
  /** Lines waiting, each binary chunk header followed by its raw body. */
  #held: StreamItem[] = [];
  #paused = false;
  #busy = false;
  #lastActivity: number;
  #lastRateError = 0;
  /**
   * Relays the session's fast path handled since the last count: added to the `framesIn`
   * metric once per read ({@link resume}) instead of once per frame.
   */
  relaysIn = 0;

  constructor(
    host: InputHost,
    transport: Transport,
    options: {
      maxLineBytes: number;
      rateLimits?: RateLimits;
      /** With a clock to wait on: chunk uploads are paced by it instead of the chat limits. */
      fileRate?: { rate: FileRate; clock: Clock };
      stats: ServerStats;
      now: () => number;
    },
  ) {
    this.#host = host;
    this.#transport = transport;
    this.#stats = options.stats;
    this.#now = options.now;
    this.#decoder = new StreamDecoder(options.maxLineBytes);
    this.#lastActivity = this.#now();
    if (options.rateLimits) this.#rate = new SessionRate(options.rateLimits, this.#lastActivity);
    if (options.fileRate) {
      const { rate, clock } = options.fileRate;
      this.#fileBucket = new TokenBucket(rate.bytesPerSecond, rate.burst, this.#lastActivity);
      this.#clock = clock;
    }
  }

  /**
   * Binary chunk mode negotiated (`fbin`): from now on an `fputb` header line is followed by
   * its raw body, which is never read as a line (into `allocate`'s buffers when given).
   */
  enableBinaryChunks(allocate?: (length: number) => Uint8Array): void {
    this.#decoder.enableBodies(PUT_BODY_RULE, allocate ? { allocate } : {});
  }

  /** Time of the last line received (for the idle sweep). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  receive(chunk: Uint8Array): void {
    if (this.#host.closed) return;
    this.#stats.bytesIn += chunk.length;
    let lines: StreamItem[];
    try {
      lines = this.#decoder.push(chunk);
    } catch (error) {
      this.#host.refuse(error);
      return;
    }
    if (lines.length > 0) {
      const now = this.#now();
      this.#lastActivity = now;
      // Chunk uploads and download requests are paced (not dropped) by the file budget in
      // resume(); the chat rate limit is charged once per read for the other lines when they
      // all fit (the common case), and line by line, exactly as before, when some would not.
      const rate = this.#rate;
      if (rate === undefined || this.#takeChatLines(rate, lines, now)) {
        for (const line of lines) this.#held.push(line);
      } else {
        for (const line of lines) {
          if (this.#host.closed) return;
          if (line instanceof RawBody || this.#isFileLine(line)) {
            this.#held.push(line);
            continue;
          }
          const verdict = rate.check(line.length + 1, now);
          if (verdict === 'ok') this.#held.push(line);
          else this.#rateLimited(verdict, line, now);
        }
      }
      this.resume();
    }
    // The chunk went on into an over-long line: refuse it now, not at the next chunk.
    if (this.#decoder.dead) this.receive(NO_BYTES);
  }

  /** Whether the file budget, not the chat rate limit, pays for this line. */
  #isFileLine(line: Uint8Array): boolean {
    return this.#fileBucket !== undefined && fileLineCost(line) !== undefined;
  }

  /**
   * Charges the chat rate limit at once for the lines it counts (each with its newline; file
   * lines are the file budget's) when all of them fit; false, charging nothing, otherwise.
   */
  #takeChatLines(rate: SessionRate, lines: StreamItem[], now: number): boolean {
    let count = 0;
    let bytes = 0;
    for (const line of lines) {
      if (line instanceof RawBody || this.#isFileLine(line)) continue;
      count++;
      bytes += line.length + 1;
    }
    return count === 0 || rate.takeAll(count, bytes, now);
  }

  /** Handles waiting lines while the client reads; pauses its socket otherwise. */
  resume(): void {
    this.#handleHeld();
    if (this.relaysIn > 0) {
      this.#stats.framesIn.inc('relay', this.relaysIn);
      this.relaysIn = 0;
    }
  }

  #handleHeld(): void {
    while (this.#held.length > 0 && !this.#host.closed) {
      if (this.#busy) {
        this.#pause();
        return;
      }
      if (this.#host.congested) {
        this.#pause();
        this.#host.waitForDrain();
        return;
      }
      const line = this.#held[0]!;
      if (line instanceof RawBody) {
        // the body of a header the rate limit dropped: dropped with it
        this.#held.shift();
        continue;
      }
      const next = this.#held[1];
      const body = next instanceof RawBody ? next.bytes : undefined;
      if (this.#fileWait || !this.#fileBudgetAllows(line, body?.length ?? 0)) {
        this.#pause();
        return;
      }
      this.#held.shift();
      if (body !== undefined) this.#held.shift();
      const pending = this.#host.handleLine(line, body);
      if (pending) {
        this.#busy = true;
        if (this.#held.length > 0) this.#pause();
        pending.then(() => {
          this.#busy = false;
          this.resume();
        });
        return;
      }
    }
    if (this.#paused && !this.#busy && !this.#host.closed) {
      // Still congested with nothing held (a handler's answer filled the queue): resume once
      // the client read it, or the socket would stay paused with no one to wake it.
      if (this.#host.congested) this.#host.waitForDrain();
      else {
        this.#paused = false;
        this.#transport.resume();
      }
    }
  }

  /**
   * Charges an upload line to the file budget; when the budget is spent, input pauses and
   * resumes once enough bytes have accrued (uploads are slowed, never refused).
   */
  #fileBudgetAllows(line: Uint8Array, bodyBytes: number): boolean {
    const bucket = this.#fileBucket;
    const lineCost = bucket ? fileLineCost(line) : undefined;
    if (!bucket || lineCost === undefined) return true;
    const cost = Math.min(lineCost + bodyBytes, bucket.burst);
    const now = this.#now();
    if (bucket.take(cost, now)) return true;
    const waitMs = Math.max(1, Math.ceil(((cost - bucket.available(now)) * 1000) / bucket.rate));
    this.#fileWait = true;
    this.#clock!.setTimeout(() => {
      this.#fileWait = false;
      this.resume();
    }, waitMs);
    return false;
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#transport.pause();
  }

  /**
   * A line refused by the token buckets gets E_RATE_LIMITED, naming its id or file in `ref`
   * (throttled when it names neither).
   */
  #rateLimited(verdict: 'limited' | 'abusive', line: Uint8Array, now: number): void {
    const host = this.#host;
    this.#stats.rateLimited.inc(verdict);
    if (verdict === 'abusive') {
      host.log.warn({ event: 'rate_limit.disconnect' }, 'sustained flooding; disconnecting');
      host.reply(encodeError(ErrorCode.RATE_LIMITED, 'too many frames: disconnected'), 'error');
      host.flooding();
      return;
    }
    const ref = refOfLine(line);
    const quiet = now - this.#lastRateError < 1000;
    if (!quiet) host.log.warn({ event: 'rate_limited' }, 'frame dropped by the rate limit');
    if (ref !== undefined || !quiet) {
      this.#lastRateError = now;
      host.reply(
        encodeError(ErrorCode.RATE_LIMITED, 'slow down: frame dropped by the rate limit', ref),
        'error',
      );
    }
  }

  /** The session closed: nothing waiting is handled. */
  close(): void {
    this.#held = [];
  }
}
