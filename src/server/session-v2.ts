import {
  type BundleRequestFrame,
  ErrorCode,
  type FetchedFrame,
  type PrekeysUploadFrame,
} from '../protocol/index.js';
import { errorLine } from './frames.js';
import { TokenBucket } from './limits/token-bucket.js';
import type { PrekeyOwner, PrekeyService } from './prekey-service.js';
import type { RelayRouter, RelayTarget } from './router.js';
import type { ServerStats } from './stats.js';

/** Bundle requests allowed per session: draining one-time prekeys is an attack. */
const BUNDLES_PER_MINUTE = 30;

/** What the per-session v2 services need of their session. */
export interface V2Member extends PrekeyOwner, RelayTarget {
  readonly name: string;
  send(line: string, kind?: string): boolean;
}

/** Frames handled here (already validated by the protocol core). */
export type V2Frame = PrekeysUploadFrame | BundleRequestFrame | FetchedFrame;

/**
 * One session's share of the v2 key and mailbox services: prekey uploads, bundle requests
 * (rate limited per session) and delivery of stored messages in order, resumed after each
 * `fetched` acknowledgement.
 */
export class SessionV2Services<M extends V2Member> {
  #member: M;
  #prekeys: PrekeyService<M>;
  #router: RelayRouter<M>;
  #stats: ServerStats;
  #now: () => number;
  #bundles: TokenBucket | undefined;
  #mailboxSentUpto = 0;

  constructor(
    member: M,
    services: { prekeys: PrekeyService<M>; router: RelayRouter<M>; stats: ServerStats },
    now: () => number,
  ) {
    this.#member = member;
    this.#prekeys = services.prekeys;
    this.#router = services.router;
    this.#stats = services.stats;
    this.#now = now;
  }

  /** After the welcome: how many prekeys the server holds for this identity. */
  announcePrekeys(): void {
    this.#member.send(this.#prekeys.countLine(this.#member), 'prekeys');
  }

  handle(frame: V2Frame): void {
    switch (frame.type) {
      case 'prekeys':
        this.#member.send(this.#prekeys.upload(this.#member, frame), 'prekeys');
        return;
      case 'bundle': {
        const now = this.#now();
        this.#bundles ??= new TokenBucket(BUNDLES_PER_MINUTE / 60, BUNDLES_PER_MINUTE, now);
        if (!this.#bundles.take(1, now)) {
          this.#stats.rateLimited.inc('bundle');
          this.#member.send(
            errorLine(ErrorCode.RATE_LIMITED, 'too many bundle requests', frame.id),
            'error',
          );
          return;
        }
        this.#member.send(this.#prekeys.bundle(frame), 'bundle');
        return;
      }
      case 'fetched':
        this.#router.acknowledge(this.#member.name, frame.upto);
        if (frame.upto >= this.#mailboxSentUpto) this.deliverMailbox();
        return;
    }
  }

  /** Sends stored messages newer than what was sent already (acknowledged with `fetched`). */
  deliverMailbox(): void {
    const pending = this.#router
      .pendingFor(this.#member.name)
      .filter((m) => m.seq > this.#mailboxSentUpto);
    for (const message of pending) {
      if (!this.#member.send(message.line, 'relay')) return;
      this.#mailboxSentUpto = message.seq;
      this.#stats.mailboxDelivered++;
    }
  }
}
