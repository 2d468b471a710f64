import type { ServerStats } from './stats.js';
import type { Transport } from './transport.js';

/**
 * Membership changes are queued up to this many times the cap before a client is given up
 * on: dropping one would leave its room keys wrong, so they are never dropped.
 */
export const ESSENTIAL_QUEUE_FACTOR = 2;

/** Outcome of offering a line to a connected client. */
export type SendResult = 'queued' | 'full' | 'closed';

export interface OutputLimits {
  /** Queued bytes above which peer traffic is not queued and the client's input is paused. */
  maxQueueBytes: number;
  /** How long the queue may stay full while peers keep sending before the client is dropped. */
  slowReaderGraceMs: number;
}

/**
 * One client's outbound queue, under the rule "never punish a client for what it did not
 * send":
 * - {@link reply}: answers to the client's own requests (and its mailbox pages) are always
 *   queued; the session pauses the client's input while the queue is over the cap, so a
 *   client cannot make it grow by asking.
 * - {@link offer}: traffic from peers (relays, room messages, presence) is not queued while
 *   the queue is over the cap (the caller drops that copy and says so). Only a client whose
 *   queue stays full for the grace period while peers keep sending is disconnected, and it
 *   is not penalized for it.
 * - {@link push}: peer traffic that must not be lost (room membership changes, on which room
 *   keys depend) is queued up to twice the cap; a client that far behind is disconnected.
 */
export class SessionOutput {
  #transport: Transport;
  #stats: ServerStats;
  #limits: OutputLimits;
  #now: () => number;
  #onStuck: (queuedBytes: number) => void;
  #fullSince: number | undefined;
  #closed = false;

  /** A session's queue, with the server's limits. */
  static of(
    transport: Transport,
    ctx: { stats: ServerStats; limits: { maxSendQueueBytes: number; slowReaderGraceMs: number } },
    now: () => number,
    onStuck: (queuedBytes: number) => void,
  ): SessionOutput {
    const { maxSendQueueBytes: maxQueueBytes, slowReaderGraceMs } = ctx.limits;
    return new SessionOutput(
      transport,
      ctx.stats,
      { maxQueueBytes, slowReaderGraceMs },
      now,
      onStuck,
    );
  }

  constructor(
    transport: Transport,
    stats: ServerStats,
    limits: OutputLimits,
    now: () => number,
    onStuck: (queuedBytes: number) => void,
  ) {
    this.#transport = transport;
    this.#stats = stats;
    this.#limits = limits;
    this.#now = now;
    this.#onStuck = onStuck;
  }

  /** True while the queue is at or over the cap. */
  get congested(): boolean {
    return this.#transport.writableLength >= this.#limits.maxQueueBytes;
  }

  /** Nothing more is written once the session closed. */
  close(): void {
    this.#closed = true;
  }

  reply(line: string, kind: string): boolean {
    if (this.#closed) return false;
    this.#write(line, kind);
    return true;
  }

  /**
   * A binary chunk (`fbin`): its header line then its raw bytes as one write (one TLS record
   * run instead of a tiny record for the header); an answer, like reply. A body given with
   * `lent` is written as it is where the transport can (`writeLent`), and `lent` is called
   * exactly once when its bytes are no longer needed (written out, copied, or the session
   * closed), so its buffer is reused only then (a 200 MiB download copied 200 MiB here, held
   * in the socket's queue long enough to be promoted); any other body is copied.
   */
  replyBytes(header: string, body: Uint8Array, lent?: () => void): boolean {
    let given = false;
    const written = lent
      ? () => {
          if (given) return;
          given = true;
          lent();
        }
      : undefined;
    if (this.#closed) {
      written?.();
      return false;
    }
    this.#stats.bytesOut += header.length + body.length;
    this.#stats.framesOut.tally('fchunk');
    if (written && this.#transport.writeLent) {
      this.#transport.writeLent(header, body, written);
      return true;
    }
    const frame = Buffer.allocUnsafe(header.length + body.length);
    frame.write(header, 0, 'latin1'); // (ASCII: ids and numbers)
    frame.set(body, header.length);
    written?.();
    this.#transport.write(frame);
    return true;
  }

  offer(line: string, kind: string): SendResult {
    return this.#queue(line, kind, this.#limits.maxQueueBytes, false);
  }

  push(line: string, kind: string): SendResult {
    return this.#queue(line, kind, ESSENTIAL_QUEUE_FACTOR * this.#limits.maxQueueBytes, true);
  }

  /** The transport drained its queue: whatever was stuck moves again. */
  drained(): void {
    this.#fullSince = undefined;
  }

  #queue(line: string, kind: string, cap: number, hard: boolean): SendResult {
    if (this.#closed) return 'closed';
    const queued = this.#transport.writableLength;
    if (queued + line.length <= cap) {
      if (!hard) this.#fullSince = undefined;
      this.#write(line, kind);
      return 'queued';
    }
    this.#stats.copiesDropped.inc(kind);
    const now = this.#now();
    this.#fullSince ??= now;
    if (hard || now - this.#fullSince >= this.#limits.slowReaderGraceMs) this.#onStuck(queued);
    return this.#closed ? 'closed' : 'full';
  }

  #write(line: string, kind: string): void {
    this.#stats.bytesOut += line.length;
    this.#stats.framesOut.tally(kind); // folded into the counter when it is read
    this.#transport.write(line);
  }
}
