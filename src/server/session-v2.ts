import type {
  BundleRequestFrame,
  FetchedFrame,
  PrekeysUploadFrame,
  SignedPrekeyUpload,
} from '../protocol/index.js';
import type { PrekeyOwner, PrekeyService } from './prekey-service.js';
import type { RelayRouter, RelayTarget } from './router.js';
import type { ServerStats } from './stats.js';

/** What the per-session v2 services need of their session. */
export interface V2Member extends PrekeyOwner, RelayTarget {
  readonly name: string;
  /** Queues an answer to the client's own request (never refused for a full queue). */
  reply(line: string, kind: string): boolean;
}

/** Frames handled here (already validated by the protocol core). */
export type V2Frame = PrekeysUploadFrame | BundleRequestFrame | FetchedFrame;

/**
 * One session's share of the v2 key and mailbox services: prekey uploads, bundle requests,
 * and delivery of stored messages in pages bounded by count and bytes. The next page goes
 * out only after the client's `fetched` covered the previous one, so a full mailbox never
 * floods a client that logs in (nor gets it dropped as a slow reader).
 */
export class SessionV2Services<M extends V2Member> {
  #member: M;
  #prekeys: PrekeyService<M>;
  #router: RelayRouter<M>;
  #stats: ServerStats;
  /** Highest seq sent, and highest acknowledged. */
  #sentUpto = 0;
  #ackedUpto = 0;

  constructor(
    member: M,
    services: { prekeys: PrekeyService<M>; router: RelayRouter<M>; stats: ServerStats },
  ) {
    this.#member = member;
    this.#prekeys = services.prekeys;
    this.#router = services.router;
    this.#stats = services.stats;
  }

  /**
   * At admission, before anyone sees the session: the signed prekey its hello carried
   * (ignored, and logged by the caller, when its signatures do not verify).
   */
  storeHelloSignedPrekey(spk: SignedPrekeyUpload): boolean {
    return this.#prekeys.storeSignedPrekey(this.#member, spk);
  }

  /** After the welcome: how many prekeys the server holds for this identity. */
  announcePrekeys(): void {
    this.#member.reply(this.#prekeys.countLine(this.#member), 'prekeys');
  }

  handle(frame: V2Frame): void {
    switch (frame.type) {
      case 'prekeys':
        this.#member.reply(this.#prekeys.upload(this.#member, frame), 'prekeys');
        return;
      case 'bundle':
        this.#member.reply(this.#prekeys.bundle(this.#member, frame), 'bundle');
        return;
      case 'fetched':
        this.#router.acknowledge(this.#member.name, frame.upto);
        this.#ackedUpto = Math.max(this.#ackedUpto, frame.upto);
        this.deliverMailbox();
        return;
    }
  }

  /** True while a page was sent and not yet acknowledged. */
  get pageOutstanding(): boolean {
    return this.#sentUpto > this.#ackedUpto;
  }

  /** Sends the next page of stored messages, unless one is still waiting for `fetched`. */
  deliverMailbox(): void {
    if (this.pageOutstanding) return;
    const page = this.#router.nextPage(this.#member.name, this.#sentUpto);
    if (page.length === 0) return;
    for (const message of page) {
      this.#member.reply(message.line, 'relay');
      this.#stats.mailboxDelivered++;
    }
    this.#sentUpto = page[page.length - 1]!.seq;
    this.#stats.mailboxPages++;
  }
}
