import type { Redis } from 'ioredis';

/** How many entries a node's stream keeps at most (`MAXLEN ~`). */
export const MAXLEN = 100_000;

/**
 * Relays on their way to other nodes' streams. Those gathered in one event-loop turn go as
 * one stream entry per target node, and while an entry to a node is on its way (its XADD
 * not answered yet), the next relays to that node gather for the entry after it: at most one
 * XADD per target node in flight. Idle, a relay goes at the end of its turn; under load the
 * entries grow instead of the commands multiplying (a cross-node relay's cost is largely
 * per Redis command: the client's command objects, Redis's own work, the socket writes).
 * Entries to one node go out in the order their relays came, so the stream keeps each
 * sender→recipient pair's order.
 */
export class Outbox {
  #redis: Redis;
  #origin: string;
  #stream: (node: string) => string;
  #failed: (batch: string, error: unknown) => void;
  /** Pieces of the items gathered per target node (joined when sent), not sent yet. */
  #waiting = new Map<string, Array<string | number>>();
  /** Target nodes with an entry on its way. */
  #sending = new Set<string>();
  #scheduled = false;
  /** Entries sent (each carries the relays gathered for one node: relays ÷ entries is the batch). */
  entries = 0;
  #flush = (): void => {
    this.#scheduled = false;
    for (const [node, batch] of this.#waiting)
      if (!this.#sending.has(node)) {
        this.#waiting.delete(node);
        this.#send(node, batch);
      }
  };

  /**
   * `stream(node)` names a node's stream; `failed` hears of the batch of an entry that
   * could not be added.
   */
  constructor(options: {
    redis: Redis;
    origin: string;
    stream: (node: string) => string;
    failed: (batch: string, error: unknown) => void;
  }) {
    this.#redis = options.redis;
    this.#origin = options.origin;
    this.#stream = options.stream;
    this.#failed = options.failed;
  }

  /** The pieces of the next entry to `node`, for one more item ({@link appendRelay}). */
  parts(node: string): Array<string | number> {
    let batch = this.#waiting.get(node);
    if (!batch) {
      batch = [];
      this.#waiting.set(node, batch);
      if (!this.#scheduled && !this.#sending.has(node)) {
        this.#scheduled = true;
        setImmediate(this.#flush);
      }
    }
    return batch;
  }

  #send(node: string, parts: Array<string | number>): void {
    this.#sending.add(node);
    this.entries++;
    const batch = parts.join('');
    this.#redis
      .xadd(
        this.#stream(node),
        'MAXLEN',
        '~',
        MAXLEN,
        '*',
        't',
        'relays',
        'o',
        this.#origin,
        'x',
        batch,
      )
      .then(
        () => this.#sent(node),
        (error: unknown) => {
          this.#failed(batch, error);
          this.#sent(node);
        },
      );
  }

  /** The entry to `node` was added (or failed): what gathered meanwhile goes now. */
  #sent(node: string): void {
    this.#sending.delete(node);
    const next = this.#waiting.get(node);
    if (next) {
      this.#waiting.delete(node);
      this.#send(node, next);
    }
  }
}
