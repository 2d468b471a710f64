import { encodeFetchedAck } from '../protocol/index.js';
import type { RelayRouter, RelayTarget } from './router.js';
import type { ServerStats } from './stats.js';

/** What mailbox delivery needs of its session. */
export interface MailboxOwner extends RelayTarget {
  readonly open: boolean;
  /** Queues an answer to the client's own request (never refused for a full queue). */
  reply(line: string, kind: string): boolean;
  /**
   * The client fetched a message `from` sent as `id`: tell the sender now if online, else
   * keep the notice for when it comes back.
   */
  fetched?(from: string, id: string): void | Promise<void>;
}

/** Stored lines tracked for the fetched notice (a page is far smaller). */
const MAX_TRACKED = 4096;

/** The sender and message id of a stored relay line, if it has both. */
function senderOf(line: string): { from: string; id: string } | undefined {
  try {
    const frame = JSON.parse(line) as { from?: unknown; id?: unknown };
    return typeof frame.from === 'string' && typeof frame.id === 'string'
      ? { from: frame.from, id: frame.id }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One session's mailbox: messages stored while its client was offline, delivered in pages
 * bounded by count and bytes. The next page goes out only after the client's `fetched`
 * covered the previous one, so a full mailbox never floods a client that logs in (nor gets
 * it dropped as a slow reader).
 */
export class MailboxDelivery {
  #owner: MailboxOwner;
  #router: Pick<RelayRouter<never>, 'nextPage' | 'acknowledge' | 'takeFetched'>;
  #stats: ServerStats;
  /** Highest seq sent, and highest acknowledged. */
  #sentUpto = 0;
  #ackedUpto = 0;
  #fetching = false;
  /**
   * Who sent each message of the page out (by seq), to tell them once it is fetched; made
   * when the first stored message with a sender is delivered (most sessions never).
   */
  #senders: Map<number, { from: string; id: string }> | undefined;

  constructor(
    owner: MailboxOwner,
    router: Pick<RelayRouter<never>, 'nextPage' | 'acknowledge' | 'takeFetched'>,
    stats: ServerStats,
  ) {
    this.#owner = owner;
    this.#router = router;
    this.#stats = stats;
  }

  /** True while a page was sent and not yet acknowledged (or is being read). */
  get pageOutstanding(): boolean {
    return this.#fetching || this.#sentUpto > this.#ackedUpto;
  }

  /** The client processed stored messages up to `upto`: delete them, send the next page. */
  async acknowledged(upto: number): Promise<void> {
    await this.#router.acknowledge(this.#owner.name, upto);
    this.#ackedUpto = Math.max(this.#ackedUpto, upto);
    const senders = this.#senders;
    for (const [seq, sender] of senders ?? []) {
      if (seq > upto) continue;
      senders!.delete(seq);
      await this.#owner.fetched?.(sender.from, sender.id);
    }
    await this.deliver();
  }

  /**
   * At login (a client with `ack`): the fetched notices kept while it was offline, one
   * `ack` with `fetched` each, so its stored messages turn delivered.
   */
  async deliverFetched(): Promise<void> {
    const ids = await this.#router.takeFetched(this.#owner.name);
    if (!this.#owner.open) return;
    for (const id of ids) this.#owner.reply(encodeFetchedAck(id), 'ack');
  }

  /** Sends the next page of stored messages, unless one is still waiting for `fetched`. */
  async deliver(): Promise<void> {
    if (this.pageOutstanding) return;
    this.#fetching = true;
    try {
      for (;;) {
        const page = await this.#router.nextPage(this.#owner.name, this.#sentUpto);
        if (!this.#owner.open) return;
        if (page.lines.length === 0 && page.upto > this.#sentUpto) {
          // Only rows that could not be read: drop them, look further.
          this.#sentUpto = this.#ackedUpto = page.upto;
          await this.#router.acknowledge(this.#owner.name, page.upto);
          continue;
        }
        for (const message of page.lines) {
          const sender = senderOf(message.line);
          if (sender) {
            this.#senders ??= new Map();
            if (this.#senders.size < MAX_TRACKED) this.#senders.set(message.seq, sender);
          }
          this.#owner.reply(message.line, 'relay');
          this.#stats.mailboxDelivered++;
        }
        if (page.lines.length > 0) this.#stats.mailboxPages++;
        this.#sentUpto = Math.max(this.#sentUpto, page.upto);
        return;
      }
    } finally {
      this.#fetching = false;
    }
  }
}
