import {
  Capability,
  ErrorCode,
  encodeRelayDelivery,
  encodeStoredDelivery,
  ProtocolError,
  type RelayFrame,
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
}

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

const REFUSAL_TEXT: Record<EnqueueRefusal, (to: string, limits: MailboxLimits) => string> = {
  too_large: (to, l) =>
    `${to} is offline and the message is too large to keep (over ${l.messageMaxBytes} bytes)`,
  recipient_full: (to) => `${to} is offline and their mailbox is full`,
  sender_quota: (to) => `${to} is offline and you have used your share of stored messages`,
  address_quota: (to) => `${to} is offline and your address has used its share of stored messages`,
  server_full: (to) => `${to} is offline and the server cannot store more messages now`,
};

/**
 * Routes relays: to the recipient's connection when online and reading; otherwise, for
 * registered v2 identities seen recently that accept it, into the mailbox, within byte
 * quotas per recipient, per sender identity, per sender address and in all. The envelope
 * stays opaque: only validated routing fields are read.
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
    now?: () => number;
  }) {
    this.#online = options.online;
    this.#store = options.store;
    this.#stats = options.stats;
    this.#limits = options.mailbox;
    this.#now = options.now ?? Date.now;
  }

  route(from: RelaySender, relay: RelayFrame): RouteOutcome {
    const line = encodeRelayDelivery(from.name, relay);
    const target = this.#online(relay.to);
    if (target !== undefined) {
      const result = target.offer(line, 'relay');
      if (result === 'queued') {
        this.#stats.relayDelivered++;
        this.#stats.relayBytes += relay.cipher.length;
        return { kind: 'delivered' };
      }
      // Not reading right now: its mailbox, if it has one, keeps the message.
      if (result === 'full') this.#stats.relayFailed.inc('slow_reader_redirected');
    }
    const outcome = this.#keep(from, relay, line, target !== undefined);
    if (outcome.kind === 'stored') this.#online(relay.to)?.mailboxWaiting();
    return outcome;
  }

  #keep(from: RelaySender, relay: RelayFrame, line: string, wasOnline: boolean): RouteOutcome {
    const binding = this.#store.getBinding(relay.to);
    const now = this.#now();
    if (
      !binding?.caps.includes(Capability.mailbox) ||
      binding.lastSeen < now - this.#limits.recentMs
    ) {
      this.#stats.relayFailed.inc(wasOnline ? 'slow_reader' : 'offline');
      return wasOnline
        ? {
            kind: 'failed',
            code: ErrorCode.PEER_SLOW,
            text: `${relay.to} is not reading right now: message not delivered`,
            reason: 'slow_reader',
          }
        : {
            kind: 'failed',
            code: ErrorCode.PEER_OFFLINE,
            text: `${relay.to} is not online`,
            reason: 'offline',
          };
    }
    const result = this.#store.mailbox.enqueue(
      {
        recipient: relay.to,
        sender: from.name,
        senderKey: from.identityKey ?? `v1:${from.addressKey ?? 'shared'}`,
        ...(from.addressKey === undefined ? {} : { senderAddress: from.addressKey }),
        line,
      },
      now,
      this.#limits,
    );
    if (!result.ok) {
      this.#stats.relayFailed.inc(result.reason);
      this.#stats.quotaRefused.inc(`mailbox_${result.reason}`);
      return {
        kind: 'failed',
        code: ErrorCode.MAILBOX_FULL,
        text: REFUSAL_TEXT[result.reason](relay.to, this.#limits),
        reason: result.reason,
      };
    }
    this.#stats.relayStored++;
    return { kind: 'stored', seq: result.seq };
  }

  /**
   * The next page of lines stored for `name` after `afterSeq`, each with its `seq` (oldest
   * first, unexpired): at most `pageMessages` and `pageBytes`, and always at least one.
   */
  nextPage(name: string, afterSeq: number): Array<{ seq: number; line: string }> {
    const rows = this.#store.mailbox.pending(
      name,
      afterSeq,
      this.#now() - this.#limits.ttlMs,
      this.#limits.pageMessages,
    );
    const page: Array<{ seq: number; line: string }> = [];
    let bytes = 0;
    for (const { seq, line } of rows) {
      let withSeq: string;
      try {
        withSeq = encodeStoredDelivery(line, seq);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        this.#stats.relayFailed.inc('stored_invalid');
        continue;
      }
      if (page.length > 0 && bytes + withSeq.length > this.#limits.pageBytes) break;
      page.push({ seq, line: withSeq });
      bytes += withSeq.length;
    }
    return page;
  }

  /** The client processed stored messages up to `upto`. */
  acknowledge(name: string, upto: number): number {
    return this.#store.mailbox.acknowledge(name, upto);
  }

  /** Drops expired stored messages (called periodically). */
  expire(): number {
    return this.#store.mailbox.expire(this.#now() - this.#limits.ttlMs);
  }
}
