import type { Redis } from 'ioredis';
import { ErrorCode, type RelayFrame } from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import type { RelaySender, RouteOutcome } from '../router.js';
import type { RedisKeys } from '../store/redis/scripts.js';

/** What the inbox needs of this node's router: delivery to its own sessions only. */
export interface LocalRouter {
  routeLocal(from: RelaySender, relay: RelayFrame): RouteOutcome | Promise<RouteOutcome>;
}

export interface InboxFigures {
  forwarded: number;
  received: number;
  replies: number;
  timedOut: number;
  expired: number;
}

const GROUP = 'node';

/** A relay on its way to another node: id, deadline, sender name, identity, address key, frame. */
type OutgoingRelay = [string, number, string, string, string, RelayFrame];
const MAXLEN = 100_000;

/**
 * Node-to-node relays over Redis Streams: each node reads its own stream `inbox:<node>`
 * through a consumer group (an entry stays pending until this node handled it and
 * acknowledged it). A relay carries a deadline: the sender's node reports a failure to its
 * client when no answer came by then, and the receiving node drops an entry whose deadline
 * passed, so a relay is delivered once or reported failed, never both. The answer (the
 * outcome: delivered, stored, or failed with its error) comes back on the sender node's
 * stream. One reader per node handles entries in stream order, which keeps the order of
 * each sender→recipient pair.
 */
export class ClusterInbox {
  #redis: Redis;
  #reader: Redis;
  #keys: RedisKeys;
  #node: string;
  #logger: Logger;
  #timeoutMs: number;
  #router: LocalRouter | undefined;
  #pending = new Map<string, { resolve: (o: RouteOutcome) => void; timer: NodeJS.Timeout }>();
  #next = 0;
  #outgoing = new Map<string, OutgoingRelay[]>();
  #kicked: ((name: string, sid: string) => void) | undefined;
  #roomEntry: ((json: string) => void) | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  readonly figures: InboxFigures = {
    forwarded: 0,
    received: 0,
    replies: 0,
    timedOut: 0,
    expired: 0,
  };

  constructor(options: {
    redis: Redis;
    reader: Redis;
    keys: RedisKeys;
    node: string;
    logger: Logger;
    timeoutMs: number;
  }) {
    this.#redis = options.redis;
    this.#reader = options.reader;
    this.#keys = options.keys;
    this.#node = options.node;
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs;
  }

  stream(node: string): string {
    return this.#keys.key('inbox', node);
  }

  attach(router: LocalRouter, kicked: (name: string, sid: string) => void): void {
    this.#router = router;
    this.#kicked = kicked;
  }

  /** Tells `node` to close its session `sid` of `name` (replaced by a newer one elsewhere). */
  async kick(node: string, name: string, sid: string): Promise<void> {
    await this.#redis.xadd(
      this.stream(node),
      'MAXLEN',
      '~',
      MAXLEN,
      '*',
      't',
      'kick',
      'u',
      name,
      's',
      sid,
    );
  }

  /**
   * Room traffic that must reach `node` even if its subscription drops (removing one of its
   * members): an acknowledged stream entry, handed to the room handler there.
   */
  async post(node: string, json: string): Promise<void> {
    await this.#redis.xadd(this.stream(node), 'MAXLEN', '~', MAXLEN, '*', 't', 'room', 'x', json);
  }

  /** What to do with room entries of {@link post}. */
  onRoomEntry(handler: (json: string) => void): void {
    this.#roomEntry = handler;
  }

  /** Creates this node's stream and group (again after Redis lost them). */
  async prepare(): Promise<void> {
    try {
      await this.#redis.xgroup('CREATE', this.stream(this.#node), GROUP, '$', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('BUSYGROUP')) throw error;
    }
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#reader.disconnect();
    await this.#loop?.catch(() => {});
    for (const [, waiting] of this.#pending) {
      clearTimeout(waiting.timer);
      waiting.resolve(unconfirmed('the server is shutting down'));
    }
    this.#pending.clear();
  }

  /**
   * Sends `relay` to `node` and resolves with that node's answer (or a failure at the
   * deadline). Relays to one node within one event-loop turn travel as one stream entry.
   */
  forward(node: string, from: RelaySender, relay: RelayFrame): Promise<RouteOutcome> {
    const corr = (++this.#next).toString(36);
    const deadline = Date.now() + this.#timeoutMs;
    this.figures.forwarded++;
    return new Promise<RouteOutcome>((resolve) => {
      const timer = setTimeout(() => {
        if (!this.#pending.delete(corr)) return;
        this.figures.timedOut++;
        resolve(
          unconfirmed(`${relay.to}'s server did not confirm delivery: message not delivered`),
        );
      }, this.#timeoutMs);
      timer.unref?.();
      this.#pending.set(corr, { resolve, timer });
      const item: OutgoingRelay = [
        corr,
        deadline,
        from.name,
        from.identityKey ?? '',
        from.addressKey ?? '',
        relay,
      ];
      let batch = this.#outgoing.get(node);
      if (!batch) {
        batch = [];
        this.#outgoing.set(node, batch);
        if (this.#outgoing.size === 1) setImmediate(() => this.#flush());
      }
      batch.push(item);
    });
  }

  /** Sends the relays gathered this turn: one entry per target node, in order. */
  #flush(): void {
    const outgoing = this.#outgoing;
    this.#outgoing = new Map();
    for (const [node, batch] of outgoing) {
      this.#redis
        .xadd(
          this.stream(node),
          'MAXLEN',
          '~',
          MAXLEN,
          '*',
          't',
          'relays',
          'o',
          this.#node,
          'x',
          JSON.stringify(batch),
        )
        .catch((error: unknown) => {
          this.#logger.warn(
            { event: 'cluster.forward_failed', err: error },
            'could not forward relays',
          );
          for (const [corr] of batch) {
            const waiting = this.#pending.get(corr);
            if (!waiting) continue;
            this.#pending.delete(corr);
            clearTimeout(waiting.timer);
            waiting.resolve(unavailable());
          }
        });
    }
  }

  async #run(): Promise<void> {
    let backoff = 100;
    let cursor = '0'; // first what was left pending (after a reconnect), then new entries
    while (this.#running) {
      try {
        const result = (await this.#reader.xreadgroup(
          'GROUP',
          GROUP,
          this.#node,
          'COUNT',
          256,
          'BLOCK',
          2000,
          'STREAMS',
          this.stream(this.#node),
          cursor,
        )) as Array<[string, Array<[string, string[]]>]> | null;
        backoff = 100;
        const entries = result?.[0]?.[1] ?? [];
        if (cursor === '0' && entries.length === 0) cursor = '>';
        if (entries.length > 0) await this.#handleBatch(entries);
      } catch (error) {
        if (!this.#running) return;
        const message = error instanceof Error ? error.message : String(error);
        if (message.includes('NOGROUP')) await this.prepare().catch(() => {});
        else
          this.#logger.warn(
            { event: 'cluster.inbox_error', err: message },
            'inbox read failed; retrying',
          );
        cursor = '0';
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  /**
   * Handles one read of the stream: answers are resolved, relays delivered in stream order
   * (synchronously when the recipient reads; storing for later is awaited together), then
   * one pipeline sends every outcome back and acknowledges and deletes the entries.
   */
  async #handleBatch(entries: Array<[string, string[]]>): Promise<void> {
    const replies: Array<{
      origin: string;
      corr: string;
      outcome: Promise<RouteOutcome> | RouteOutcome;
    }> = [];
    for (const [, fields] of entries) {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2)
        f.set(fields[i] as string, fields[i + 1] as string);
      try {
        if (f.get('t') === 'replies') this.#answeredAll(f.get('x') ?? '[]');
        else if (f.get('t') === 'kick') this.#kicked?.(f.get('u') ?? '', f.get('s') ?? '');
        else if (f.get('t') === 'room') this.#roomEntry?.(f.get('x') ?? '');
        else if (f.get('t') === 'relays') {
          const origin = f.get('o') ?? '';
          for (const item of JSON.parse(f.get('x') ?? '[]') as OutgoingRelay[]) {
            const outcome = this.#relay(item);
            if (outcome) replies.push({ origin, corr: item[0], outcome });
          }
        }
      } catch (error) {
        this.#logger.error(
          { event: 'internal_error', where: 'cluster_inbox', err: error },
          'inbox entry failed',
        );
      }
    }
    const outcomes = await Promise.all(
      replies.map(({ outcome }) =>
        Promise.resolve(outcome).catch((error: unknown): RouteOutcome => {
          this.#logger.warn(
            { event: 'cluster.relay_failed', err: error },
            'a forwarded relay failed',
          );
          return unavailable();
        }),
      ),
    );
    // One entry per origin node carries the answers to all its relays of this read.
    const byOrigin = new Map<string, Array<[string, RouteOutcome | 1]>>();
    replies.forEach(({ origin, corr }, i) => {
      const outcome = outcomes[i] as RouteOutcome;
      let list = byOrigin.get(origin);
      if (!list) {
        list = [];
        byOrigin.set(origin, list);
      }
      list.push([corr, outcome.kind === 'delivered' ? 1 : outcome]);
    });
    const pipeline = this.#redis.pipeline();
    for (const [origin, list] of byOrigin) {
      const answers = JSON.stringify(list);
      pipeline.xadd(this.stream(origin), 'MAXLEN', '~', MAXLEN, '*', 't', 'replies', 'x', answers);
    }
    const ids = entries.map(([id]) => id);
    pipeline.xack(this.stream(this.#node), GROUP, ...ids).xdel(this.stream(this.#node), ...ids);
    await pipeline.exec();
  }

  /** A relay from another node: its outcome, or undefined when it came too late to deliver. */
  #relay([, deadline, name, idk, addr, relay]: OutgoingRelay):
    | RouteOutcome
    | Promise<RouteOutcome>
    | undefined {
    this.figures.received++;
    // Too close to the deadline for the answer to make it back in time: dropped, and its
    // sender told it failed (never delivered and reported failed both).
    if (deadline - Date.now() < Math.min(1000, this.#timeoutMs / 4)) {
      this.figures.expired++;
      return undefined;
    }
    const router = this.#router;
    if (!router) return unavailable();
    return router.routeLocal(
      { name, identityKey: idk || undefined, addressKey: addr || undefined },
      relay,
    );
  }

  #answeredAll(json: string): void {
    for (const [corr, outcome] of JSON.parse(json) as Array<[string, RouteOutcome | 1]>) {
      const waiting = this.#pending.get(corr);
      if (!waiting) continue; // too late: the sender was told it failed (and the relay dropped)
      this.#pending.delete(corr);
      clearTimeout(waiting.timer);
      this.figures.replies++;
      waiting.resolve(outcome === 1 ? DELIVERED : outcome);
    }
  }
}

const DELIVERED: RouteOutcome = { kind: 'delivered' };

function unconfirmed(text: string): RouteOutcome {
  return { kind: 'failed', code: ErrorCode.PEER_OFFLINE, text, reason: 'cross_node_timeout' };
}

export function unavailable(): RouteOutcome {
  return {
    kind: 'failed',
    code: ErrorCode.BUSY,
    text: 'the cluster is unreachable right now: message not delivered, try again',
    reason: 'cluster_unavailable',
  };
}
