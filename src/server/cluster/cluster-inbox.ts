import type { ChainableCommander, Redis } from 'ioredis';
import type { RelayRoute } from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import type { Answered, RelaySender, RouteOutcome } from '../router.js';
import type { RedisKeys } from '../store/redis/scripts.js';
import { InFlight } from './in-flight.js';
import {
  appendRelay,
  type ForwardedRelay,
  field,
  packReplies,
  readReplies,
  relayCorrs,
  unavailable,
  unconfirmed,
  unpackRelays,
} from './inbox-codec.js';
import { MAXLEN, Outbox } from './outbox.js';

/** What the inbox needs of this node's router: delivery to its own sessions only. */
export interface LocalRouter {
  routeLocalLine(
    from: RelaySender,
    to: string,
    line: string,
    cipherBytes: number,
  ): RouteOutcome | Promise<RouteOutcome>;
}

export interface InboxFigures {
  forwarded: number;
  received: number;
  replies: number;
  timedOut: number;
  expired: number;
  /** Reads of this node's stream that returned entries, and the entries they returned. */
  reads: number;
  entriesRead: number;
}

/** What a node shows of its relays (/metrics): `entriesSent` relay entries (the batches). */
export type RelayFigures = Pick<
  InboxFigures,
  'forwarded' | 'received' | 'timedOut' | 'reads' | 'entriesRead'
> & { entriesSent: number };

const GROUP = 'node';

/**
 * Handled entries between two acknowledgements (and trims) of this node's stream (see
 * {@link ClusterInbox}); they are also acknowledged before any re-read of pending entries.
 */
export const TRIM_EVERY = 256;

/** What one read of the stream answers to one origin node, in the order read. */
interface OriginReplies {
  corrs: number[];
  outcomes: Array<RouteOutcome | Promise<RouteOutcome>>;
}

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
  #inFlight = new InFlight();
  /** Answers a reply entry to this node. */
  #answer = (corr: number, outcome: RouteOutcome): void => {
    // (unknown: too late, the sender was told it failed and the relay dropped)
    if (this.#inFlight.answer(corr, outcome)) this.figures.replies++;
  };
  #sweeper: NodeJS.Timeout | undefined;
  #outbox: Outbox;
  #kicked: ((name: string, sid: string) => void) | undefined;
  #roomEntry: ((json: string) => void) | undefined;
  #running = false;
  /** Ids of entries handled and not yet acknowledged, in stream order. */
  #handled: string[] = [];
  #loop: Promise<void> | undefined;
  readonly figures: InboxFigures = {
    forwarded: 0,
    received: 0,
    replies: 0,
    timedOut: 0,
    expired: 0,
    reads: 0,
    entriesRead: 0,
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
    this.#outbox = new Outbox({
      redis: this.#redis,
      origin: this.#node,
      stream: (node) => this.stream(node),
      failed: (batch, error) => {
        this.#logger.warn(
          { event: 'cluster.forward_failed', err: error },
          'could not forward relays',
        );
        for (const corr of relayCorrs(batch)) this.#inFlight.answer(corr, unavailable());
      },
    });
  }

  relayFigures(): RelayFigures {
    const { forwarded, received, timedOut, reads, entriesRead } = this.figures;
    return { forwarded, received, timedOut, entriesSent: this.#outbox.entries, reads, entriesRead };
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
    // One timer for every relay in flight instead of one each: they share the timeout, so
    // the oldest expire first.
    this.#sweeper = setInterval(
      () => this.#expire(Date.now()),
      Math.max(10, Math.min(100, this.#timeoutMs / 10)),
    );
    this.#sweeper.unref?.();
  }

  #expire(now: number): void {
    this.figures.timedOut += this.#inFlight.expire(now, (to) =>
      unconfirmed(`${to}'s server did not confirm delivery: message not delivered`),
    );
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearInterval(this.#sweeper);
    this.#reader.disconnect();
    await this.#loop?.catch(() => {});
    this.#inFlight.answerAll(unconfirmed('the server is shutting down'));
  }

  /**
   * Sends `relay` to `node`; that node's answer (or a failure at the deadline) goes to
   * `answered` with `context`, never before this returns. Relays to one node travel in
   * order, many to an entry ({@link Outbox}).
   */
  forward<C>(
    node: string,
    from: RelaySender,
    relay: RelayRoute,
    answered: Answered<C>,
    context: C,
  ): void {
    const deadline = Date.now() + this.#timeoutMs;
    const corr = this.#inFlight.add(answered, context, relay, deadline);
    this.figures.forwarded++;
    appendRelay(this.#outbox.parts(node), corr, deadline, from, relay);
  }

  /**
   * Reads this node's stream. What a batch calls for (answers to other nodes) goes out in
   * one write with the next read, on the reader's connection: one round trip per batch.
   * Handled entries are acknowledged TRIM_EVERY at a time, then trimmed (one reader handles
   * the stream in order: everything before the last of them was handled and acknowledged),
   * and always before a read of what is pending (after a reconnect), so no handled entry is
   * read, and delivered, again.
   */
  async #run(): Promise<void> {
    let backoff = 100;
    let cursor = '0'; // first what was left pending (after a reconnect), then new entries
    let after: ((pipeline: ChainableCommander) => void) | undefined;
    const stream = this.stream(this.#node);
    while (this.#running) {
      try {
        const pipeline = this.#reader.pipeline();
        after?.(pipeline);
        const acking =
          this.#handled.length > 0 && (cursor === '0' || this.#handled.length >= TRIM_EVERY)
            ? this.#handled
            : undefined;
        if (acking) {
          pipeline.xack(stream, GROUP, ...acking);
          pipeline.xtrim(stream, 'MINID', '~', acking[acking.length - 1] as string);
        }
        const replies = (await pipeline
          .xreadgroup(
            'GROUP',
            GROUP,
            this.#node,
            'COUNT',
            256,
            'BLOCK',
            2000,
            'STREAMS',
            stream,
            cursor,
          )
          .exec()) as Array<[Error | null, unknown]> | null;
        after = undefined;
        const failed = replies?.find(([error]) => error !== null)?.[0];
        const read = replies?.at(-1);
        if (!read || read[0]) throw read?.[0] ?? new Error('no answer to the read');
        if (failed)
          this.#logger.warn(
            { event: 'cluster.inbox_error', err: failed.message },
            'sending answers or acknowledgements failed',
          );
        // Acknowledged (else kept, and sent again with the next read).
        else if (acking) this.#handled = this.#handled.slice(acking.length);
        backoff = 100;
        const result = read[1] as Array<[string, Array<[string, string[]]>]> | null;
        const entries = result?.[0]?.[1] ?? [];
        if (cursor === '0' && entries.length === 0) cursor = '>';
        if (entries.length > 0) {
          this.figures.reads++;
          this.figures.entriesRead += entries.length;
          after = await this.#handleBatch(entries);
        }
      } catch (error) {
        if (!this.#running) return;
        const message = error instanceof Error ? error.message : String(error);
        if (message.includes('NOGROUP')) await this.prepare().catch(() => {});
        else
          this.#logger.warn(
            { event: 'cluster.inbox_error', err: message },
            'inbox read failed; retrying',
          );
        // The answers of a batch that did not go out are sent again with the next read, and
        // what was handled is acknowledged before it looks at what is still pending.
        cursor = '0';
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  /**
   * Handles one read of the stream: answers are handed on, relays delivered in stream order
   * (synchronously when the recipient reads; storing for later is awaited together, and
   * only then is anything awaited). Returns what to send with the next read: the outcomes,
   * one entry per origin node in the order read; the entries join those to acknowledge.
   */
  async #handleBatch(
    entries: Array<[string, string[]]>,
  ): Promise<(pipeline: ChainableCommander) => void> {
    const byOrigin = new Map<string, OriginReplies>();
    let waits: Array<Promise<void>> | undefined;
    for (const [, fields] of entries) {
      try {
        const type = field(fields, 't');
        if (type === 'relays') {
          const origin = field(fields, 'o') ?? '';
          let replies = byOrigin.get(origin);
          if (!replies) {
            replies = { corrs: [], outcomes: [] };
            byOrigin.set(origin, replies);
          }
          for (const relay of unpackRelays(field(fields, 'x') ?? '')) {
            const outcome = this.#relay(relay);
            if (!outcome) continue;
            if (outcome instanceof Promise) {
              const list = replies.outcomes;
              const at = list.length;
              waits ??= [];
              waits.push(
                outcome.then(
                  (settled) => {
                    list[at] = settled;
                  },
                  (error: unknown) => {
                    this.#logger.warn(
                      { event: 'cluster.relay_failed', err: error },
                      'a forwarded relay failed',
                    );
                    list[at] = unavailable();
                  },
                ),
              );
            }
            replies.corrs.push(relay.corr);
            replies.outcomes.push(outcome);
          }
        } else if (type === 'replies') readReplies(field(fields, 'x') ?? '', this.#answer);
        else if (type === 'kick')
          this.#kicked?.(field(fields, 'u') ?? '', field(fields, 's') ?? '');
        else if (type === 'room') this.#roomEntry?.(field(fields, 'x') ?? '');
      } catch (error) {
        this.#logger.error(
          { event: 'internal_error', where: 'cluster_inbox', err: error },
          'inbox entry failed',
        );
      }
    }
    if (waits) await Promise.all(waits);
    // A plain loop: `entries.map` deoptimized here once per daemon, late ("wrong map" on
    // the reply arrays), and recompiling this function cost more than the loop ever will.
    for (let i = 0; i < entries.length; i++)
      this.#handled.push((entries[i] as [string, string[]])[0]);
    return (pipeline) => {
      for (const [origin, { corrs, outcomes }] of byOrigin)
        if (corrs.length > 0)
          pipeline.xadd(
            this.stream(origin),
            'MAXLEN',
            '~',
            MAXLEN,
            '*',
            't',
            'replies',
            'x',
            packReplies(corrs, outcomes),
          );
    };
  }

  /** A relay from another node: its outcome, or undefined when it came too late to deliver. */
  #relay(relay: ForwardedRelay): RouteOutcome | Promise<RouteOutcome> | undefined {
    this.figures.received++;
    // Too close to the deadline for the answer to make it back in time: dropped, and its
    // sender told it failed (never delivered and reported failed both).
    if (relay.deadline - Date.now() < Math.min(1000, this.#timeoutMs / 4)) {
      this.figures.expired++;
      return undefined;
    }
    const router = this.#router;
    if (!router) return unavailable();
    return router.routeLocalLine(relay.from, relay.to, relay.line, relay.cipherBytes);
  }
}
