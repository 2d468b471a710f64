import {
  Capability,
  ErrorCode,
  encodeStoredDelivery,
  ProtocolError,
  type RelayRoute,
} from '../protocol/index.js';
import type { SendResult } from './session-output.js';
import type { ServerStats } from './stats.js';
import type { EnqueueRefusal, MailboxQuota, ServerStore } from './store/index.js';

export type { SendResult } from './session-output.js';

/** What routing needs from an online recipient. */
export interface RelayTarget {
  readonly name: string;
  offer(line: string, kind: string): SendResult;
  /** A message for this online client went to its mailbox (its queue was full). */
  mailboxWaiting(): void;
  /**
   * A user connected to another node of a cluster: the relay goes to that node, and its
   * answer comes later to `answered` (with `context`), never before this returns.
   */
  forward?<C>(from: RelaySender, relay: RelayRoute, answered: Answered<C>, context: C): void;
}

/**
 * Where the answer to a relay forwarded to another node goes: a plain function and its
 * context rather than a promise or a closure per relay (this runs for every such relay).
 */
export type Answered<C> = (context: C, relay: RelayRoute, outcome: RouteOutcome) => void;

/** Who sends, as quotas see it. */
export interface RelaySender {
  readonly name: string;
  /** Identity key of a v2 sender; v1 senders share one quota per address. */
  readonly identityKey: string | undefined;
  /** Per-address quota key; undefined when the address is shared by many clients. */
  readonly addressKey: string | undefined;
}

export interface MailboxLimits extends MailboxQuota {
  /** How long stored messages are kept. */
  ttlMs: number;
  /** Messages are stored only for identities seen within this. */
  recentMs: number;
  /** Messages and bytes per delivery page. */
  pageMessages: number;
  pageBytes: number;
}

export type RouteOutcome =
  | { kind: 'delivered' }
  | { kind: 'stored'; seq: number }
  | { kind: 'failed'; code: ErrorCode; text: string; reason: string };

const REFUSAL_TEXT: Record<
  Exclude<EnqueueRefusal, 'no_mailbox'>,
  (to: string, limits: MailboxLimits) => string
> = {
  too_large: (to, l) =>
    `${to} is offline and the message is too large to keep (over ${l.messageMaxBytes} bytes)`,
  recipient_full: (to) => `${to} is offline and their mailbox is full`,
  sender_quota: (to) => `${to} is offline and you have used your share of stored messages`,
  address_quota: (to) => `${to} is offline and your address has used its share of stored messages`,
  server_full: (to) => `${to} is offline and the server cannot store more messages now`,
};

/** How a fan-out treats members that are not reading. */
export interface FanOut {
  /** Lines that must not be lost (membership changes) are pushed up to twice the cap. */
  essential: boolean;
  kind: string;
}

/**
 * Fetched notices kept per offline sender: its client marks at most this many recent
 * stored messages anyway (it remembers 1,000 in memory; the screen far fewer).
 */
export const MAX_FETCHED_NOTICES = 256;

/**
 * The one router of peer traffic: relays to one recipient (to its connection when online
 * and reading; otherwise, for registered v2 identities seen recently that accept it, into
 * the mailbox, within byte quotas per recipient, per sender identity, per sender address
 * and in all) and room fan-out to many (each member's copy offered, or pushed when it must
 * not be lost). The envelope stays opaque: only validated routing fields are read. A
 * broker-backed router (several daemons) replaces this class behind the same methods.
 */
export class RelayRouter<T extends RelayTarget> {
  #online: (name: string) => T | undefined;
  #store: ServerStore;
  #stats: ServerStats;
  #limits: MailboxLimits;
  #now: () => number;

  constructor(options: {
    online: (name: string) => T | undefined;
    store: ServerStore;
    stats: ServerStats;
    mailbox: MailboxLimits;
    now: () => number;
  }) {
    this.#online = options.online;
    this.#store = options.store;
    this.#stats = options.stats;
    this.#limits = options.mailbox;
    this.#now = options.now;
  }

  /**
   * Routes a relay. Delivery to an online reader is synchronous (no promise on the hot
   * path); storing for later goes through the store and returns a promise. A relay to a
   * user on another node of a cluster is forwarded there: then this returns undefined, and
   * that node's answer goes to `answered` (with `context`) when it comes.
   */
  route<C>(
    from: RelaySender,
    relay: RelayRoute,
    answered: Answered<C>,
    context: C,
  ): RouteOutcome | Promise<RouteOutcome> | undefined {
    const target = this.#online(relay.to);
    if (target?.forward) {
      this.#stats.relayForwarded++;
      target.forward(from, relay, answered, context);
      return undefined;
    }
    return this.#deliver(from, relay.to, relay.deliveryLine(from.name), relay.cipherLength, target);
  }

  /**
   * Routes a relay another node forwarded here, as the delivery line that node encoded
   * ({@link RelayRoute.deliveryLine}): to this node's own session of `to`, else to the mailbox
   * (never forwarded again). `cipherBytes` is the envelope's size, for the statistics.
   */
  routeLocalLine(
    from: RelaySender,
    to: string,
    line: string,
    cipherBytes: number,
  ): RouteOutcome | Promise<RouteOutcome> {
    const target = this.#online(to);
    return this.#deliver(from, to, line, cipherBytes, target?.forward ? undefined : target);
  }

  #deliver(
    from: RelaySender,
    to: string,
    line: string,
    cipherBytes: number,
    target: T | undefined,
  ): RouteOutcome | Promise<RouteOutcome> {
    if (target !== undefined) {
      const result = target.offer(line, 'relay');
      if (result === 'queued') {
        this.#stats.relayDelivered++;
        this.#stats.relayBytes += cipherBytes;
        return DELIVERED;
      }
      // Not reading right now: its mailbox, if it has one, keeps the message.
      if (result === 'full') this.#stats.relayFailed.inc('slow_reader_redirected');
    }
    return this.#keep(from, to, line, target !== undefined);
  }

  async #keep(
    from: RelaySender,
    to: string,
    line: string,
    wasOnline: boolean,
  ): Promise<RouteOutcome> {
    const now = this.#now();
    const result = await this.#store.mailbox.enqueue(
      {
        recipient: to,
        sender: from.name,
        senderKey: from.identityKey ?? `v1:${from.addressKey ?? 'shared'}`,
        ...(from.addressKey === undefined ? {} : { senderAddress: from.addressKey }),
        line,
      },
      now,
      this.#limits,
      { capability: Capability.mailbox, seenSince: now - this.#limits.recentMs },
    );
    if (!result.ok && result.reason === 'no_mailbox') {
      this.#stats.relayFailed.inc(wasOnline ? 'slow_reader' : 'offline');
      return wasOnline
        ? {
            kind: 'failed',
            code: ErrorCode.PEER_SLOW,
            text: `${to} is not reading right now: message not delivered`,
            reason: 'slow_reader',
          }
        : {
            kind: 'failed',
            code: ErrorCode.PEER_OFFLINE,
            text: `${to} is not online`,
            reason: 'offline',
          };
    }
    if (!result.ok) {
      this.#stats.relayFailed.inc(result.reason);
      this.#stats.quotaRefused.inc(`mailbox_${result.reason}`);
      return {
        kind: 'failed',
        code: ErrorCode.MAILBOX_FULL,
        text: REFUSAL_TEXT[result.reason as Exclude<EnqueueRefusal, 'no_mailbox'>](
          to,
          this.#limits,
        ),
        reason: result.reason,
      };
    }
    this.#stats.relayStored++;
    const online = this.#online(to);
    if (online && !online.forward) online.mailboxWaiting();
    return { kind: 'stored', seq: result.seq };
  }

  /**
   * Room fan-out: one line to every member but `except`. Returns how many copies were
   * queued; a member whose copy of a non-essential line was not queued hears about it later
   * (`onMissed`).
   */
  fanOut<M extends FanOutMember>(
    members: Iterable<M>,
    line: string,
    how: FanOut,
    except?: M,
    onMissed?: (member: M) => void,
  ): number {
    let delivered = 0;
    for (const member of [...members]) {
      if (member === except) continue;
      const result = how.essential ? member.push(line, how.kind) : member.offer(line, how.kind);
      if (result === 'queued') delivered++;
      else if (onMissed && member.open) onMissed(member);
    }
    return delivered;
  }

  /**
   * The next page of lines stored for `name` after `afterSeq`, each with its `seq` (oldest
   * first, unexpired): at most `pageMessages` and `pageBytes`, and always at least one.
   * `upto` is the last seq the page covers (rows that could not be read are skipped).
   */
  async nextPage(
    name: string,
    afterSeq: number,
  ): Promise<{ lines: Array<{ seq: number; line: string }>; upto: number }> {
    const rows = await this.#store.mailbox.pending(
      name,
      afterSeq,
      this.#now() - this.#limits.ttlMs,
      this.#limits.pageMessages,
    );
    const lines: Array<{ seq: number; line: string }> = [];
    let bytes = 0;
    let upto = afterSeq;
    for (const { seq, line } of rows) {
      let withSeq: string;
      try {
        withSeq = encodeStoredDelivery(line, seq);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        this.#stats.relayFailed.inc('stored_invalid');
        upto = seq;
        continue;
      }
      if (lines.length > 0 && bytes + withSeq.length > this.#limits.pageBytes) break;
      lines.push({ seq, line: withSeq });
      bytes += withSeq.length;
      upto = seq;
    }
    return { lines, upto };
  }

  /** The client processed stored messages up to `upto`. */
  acknowledge(name: string, upto: number): Promise<number> {
    return this.#store.mailbox.acknowledge(name, upto);
  }

  /**
   * Keeps "message `id` was fetched" for `sender`, who is offline (one mailbox TTL), if
   * its name is bound to an identity: an unbound (v1) name may be someone else's by the
   * time it comes back.
   */
  async keepFetched(sender: string, id: string): Promise<void> {
    if ((await this.#store.getBinding(sender)) === undefined) return;
    await this.#store.mailbox.keepFetched(sender, id, this.#now(), {
      max: MAX_FETCHED_NOTICES,
      ttlMs: this.#limits.ttlMs,
    });
  }

  /** The fetched notices kept for `sender` while it was offline (taken: told once). */
  takeFetched(sender: string): Promise<string[]> {
    return this.#store.mailbox.takeFetched(sender, this.#now() - this.#limits.ttlMs);
  }

  /** Drops expired stored messages (called periodically). */
  expire(): Promise<number> {
    return this.#store.mailbox.expire(this.#now() - this.#limits.ttlMs);
  }
}

const DELIVERED: RouteOutcome = { kind: 'delivered' };

/** What a fan-out needs of a room member. */
export interface FanOutMember {
  readonly open: boolean;
  offer(line: string, kind: string): SendResult;
  push(line: string, kind: string): SendResult;
}
