import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** Entries kept at most per node stream (`MAXLEN ~`): a bound, trimming keeps far fewer. */
export const MAXLEN = 100_000;

/** What one turn sends to one node. */
interface Outgoing {
  relays: string[];
  replies: string;
}

/**
 * What this node writes to other nodes' streams, gathered over one event-loop turn and sent
 * at its end, on one connection and in order: one entry per target node, carrying both the
 * relays for it and the answers to its own relays (`t relays`, `o` this node, `x` the relays,
 * `r` the answers), or the answers alone (`t replies`, `x`). Where traffic goes both ways
 * (conversations), that is one entry, one XADD and one read where there were two.
 */
export class InboxOutbox {
  #redis: Redis;
  #stream: (node: string) => string;
  #origin: string;
  #logger: Logger;
  #failed: (relays: readonly string[]) => void;
  #outgoing = new Map<string, Outgoing>();

  constructor(options: {
    redis: Redis;
    stream: (node: string) => string;
    /** This node. */
    origin: string;
    logger: Logger;
    /** Relays that could not be sent (packed items): their senders are told. */
    failed: (relays: readonly string[]) => void;
  }) {
    this.#redis = options.redis;
    this.#stream = options.stream;
    this.#origin = options.origin;
    this.#logger = options.logger;
    this.#failed = options.failed;
  }

  /** Queues one packed relay for `node`. */
  relay(node: string, item: string): void {
    this.#to(node).relays.push(item);
  }

  /** Queues packed answers for `node` (to relays it sent here). */
  replies(node: string, text: string): void {
    this.#to(node).replies += text;
  }

  #to(node: string): Outgoing {
    let outgoing = this.#outgoing.get(node);
    if (!outgoing) {
      outgoing = { relays: [], replies: '' };
      this.#outgoing.set(node, outgoing);
      if (this.#outgoing.size === 1) setImmediate(this.#flush);
    }
    return outgoing;
  }

  #flush = (): void => {
    const outgoing = this.#outgoing;
    this.#outgoing = new Map();
    for (const [node, { relays, replies }] of outgoing) {
      const fields =
        relays.length === 0
          ? ['t', 'replies', 'x', replies]
          : replies === ''
            ? ['t', 'relays', 'o', this.#origin, 'x', relays.join('')]
            : ['t', 'relays', 'o', this.#origin, 'x', relays.join(''), 'r', replies];
      this.#redis
        .xadd(this.#stream(node), 'MAXLEN', '~', MAXLEN, '*', ...fields)
        .catch((error: unknown) => {
          // Answers lost here reach their senders as "did not confirm delivery".
          this.#logger.warn(
            { event: 'cluster.forward_failed', err: error, relays: relays.length },
            'could not send relays or answers to another node',
          );
          if (relays.length > 0) this.#failed(relays);
        });
    }
  };
}
