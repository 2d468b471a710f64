import { ErrorCode, encodeRelayDelivery, type RelayFrame } from '../protocol/index.js';
import type { ServerStats } from './stats.js';
import type { ServerStore } from './store/index.js';

/** Outcome of offering a line to a connected recipient. */
export type SendResult = 'queued' | 'slow-reader' | 'closed';

/** What routing needs from an online recipient. */
export interface RelayTarget {
  readonly name: string;
  offer(line: string, kind: string): SendResult;
}

export interface MailboxLimits {
  /** Messages kept per offline recipient. */
  perRecipient: number;
  /** Messages one sender may leave for one recipient. */
  perSender: number;
  /** How long stored messages are kept. */
  ttlMs: number;
}

export type RouteOutcome =
  | { kind: 'delivered' }
  | { kind: 'stored'; seq: number }
  | { kind: 'failed'; code: ErrorCode; text: string; reason: string };

/** Capability a client announces to receive messages stored while it was offline. */
export const MAILBOX_CAP = 'mailbox';

/**
 * Routes relays: to the recipient's connection when online; otherwise, for registered v2
 * identities that accept it, into the server's mailbox (bounded per recipient and per
 * sender, expiring). The envelope stays opaque: only validated routing fields are read.
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

  route(from: string, relay: RelayFrame): RouteOutcome {
    const line = encodeRelayDelivery(from, relay);
    const target = this.#online(relay.to);
    if (target !== undefined) {
      const result = target.offer(line, 'relay');
      if (result === 'queued') {
        this.#stats.relayDelivered++;
        this.#stats.relayBytes += relay.cipher.length;
        return { kind: 'delivered' };
      }
      // A recipient dropped for not reading may still have a mailbox: fall through.
      if (result === 'slow-reader') this.#stats.relayFailed.inc('slow_reader_redirected');
    }
    return this.#store_(from, relay, line, target !== undefined);
  }

  #store_(from: string, relay: RelayFrame, line: string, wasOnline: boolean): RouteOutcome {
    const binding = this.#store.getBinding(relay.to);
    if (!binding?.caps.includes(MAILBOX_CAP)) {
      this.#stats.relayFailed.inc(wasOnline ? 'slow_reader' : 'offline');
      return wasOnline
        ? {
            kind: 'failed',
            code: ErrorCode.PEER_SLOW,
            text: `${relay.to} stopped reading and was disconnected`,
            reason: 'slow_reader',
          }
        : {
            kind: 'failed',
            code: ErrorCode.PEER_OFFLINE,
            text: `${relay.to} is not online`,
            reason: 'offline',
          };
    }
    const result = this.#store.enqueueMessage(relay.to, from, line, this.#now(), this.#limits);
    if (!result.ok) {
      this.#stats.relayFailed.inc(result.reason);
      return {
        kind: 'failed',
        code: ErrorCode.MAILBOX_FULL,
        text:
          result.reason === 'recipient_full'
            ? `${relay.to} is offline and their mailbox is full`
            : `${relay.to} is offline and you already left them ${this.#limits.perSender} messages`,
        reason: result.reason,
      };
    }
    this.#stats.relayStored++;
    return { kind: 'stored', seq: result.seq };
  }

  /** Lines stored for `name`, each with its `seq` (oldest first, unexpired). */
  pendingFor(name: string, limit = 500): Array<{ seq: number; line: string }> {
    return this.#store
      .pendingMessages(name, this.#now() - this.#limits.ttlMs, limit)
      .map(({ seq, line }) => ({ seq, line: `${line.slice(0, line.length - 2)},"seq":${seq}}\n` }));
  }

  /** The client processed stored messages up to `upto`. */
  acknowledge(name: string, upto: number): number {
    return this.#store.acknowledgeMessages(name, upto);
  }

  /** Drops expired stored messages (called periodically). */
  expire(): number {
    return this.#store.expireMessages(this.#now() - this.#limits.ttlMs);
  }
}
