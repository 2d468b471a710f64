import {
  type BundleRequestFrame,
  ErrorCode,
  MAX_STORED_PREKEYS,
  PREKEY_LOW_WATERMARK,
  type PrekeysUploadFrame,
} from '../protocol/index.js';
import { errorLine } from './frames.js';
import { KeyedBuckets } from './limits/window-counter.js';
import type { SendResult } from './session-output.js';
import type { ServerStats } from './stats.js';
import type { ServerStore } from './store/index.js';

/** What the service needs to know about online users. */
export interface PrekeyOwner {
  readonly name: string;
  readonly pub: string;
  readonly identityKey: string | undefined;
  readonly keySignature: string | undefined;
  offer(line: string, kind: string): SendResult;
}

export interface BundleLimits {
  /** Bundle requests per requesting identity per minute (across its connections). */
  perMinute: number;
  /** One-time prekeys handed out per target identity per hour. */
  opksPerTargetPerHour: number;
}

/**
 * One-time prekeys (X3DH §2.3, §3.2): owners upload batches; identities ask for a user's
 * bundle, online or not, and the server hands out each one-time prekey at most once
 * (deleted in the same statement that reads it). Draining them is an attack, so bundle
 * requests need an identity and are limited per requester, and one-time prekeys are handed
 * out at a bounded rate per target: past it, bundles come without one (X3DH runs without
 * DH4) instead of being refused, so nobody is kept from starting a session. When few are
 * left, the owner is told to upload more.
 */
export class PrekeyService<O extends PrekeyOwner> {
  #store: ServerStore;
  #online: (name: string) => O | undefined;
  #stats: ServerStats;
  #now: () => number;
  #requesters: KeyedBuckets;
  #targets: KeyedBuckets;

  constructor(options: {
    store: ServerStore;
    online: (name: string) => O | undefined;
    stats: ServerStats;
    limits: BundleLimits;
    now?: () => number;
  }) {
    this.#store = options.store;
    this.#online = options.online;
    this.#stats = options.stats;
    this.#now = options.now ?? Date.now;
    const { perMinute, opksPerTargetPerHour } = options.limits;
    this.#requesters = new KeyedBuckets(perMinute / 60, perMinute);
    this.#targets = new KeyedBuckets(opksPerTargetPerHour / 3600, opksPerTargetPerHour);
  }

  /** Stores an upload from `owner` (a v2 session) and answers with the stored count. */
  upload(owner: O, frame: PrekeysUploadFrame): string {
    if (owner.identityKey === undefined) {
      return errorLine(ErrorCode.NEEDS_IDENTITY, 'prekeys need a v2 session with an identity key');
    }
    const stored = this.#store.addPrekeys(
      owner.name,
      frame.keys,
      MAX_STORED_PREKEYS,
      frame.replace === true,
    );
    return `{"type":"prekeys","stored":${stored}}\n`;
  }

  /** The answer to a bundle request from `requester` (a bundle, or an error line). */
  bundle(requester: Pick<O, 'identityKey'>, request: BundleRequestFrame): string {
    if (requester.identityKey === undefined) {
      return errorLine(
        ErrorCode.NEEDS_IDENTITY,
        'bundles need a v2 session with an identity key',
        request.id,
      );
    }
    const now = this.#now();
    if (!this.#requesters.take(requester.identityKey, now)) {
      this.#stats.rateLimited.inc('bundle');
      return errorLine(ErrorCode.RATE_LIMITED, 'too many bundle requests', request.id);
    }
    const binding = this.#store.getBinding(request.user);
    const online = this.#online(request.user);
    const same = online !== undefined && online.identityKey === binding?.identityKey;
    const pub = same ? online.pub : binding?.pub;
    const sig = same ? online.keySignature : binding?.pubsig;
    if (!binding || !pub || !sig) {
      return errorLine(
        ErrorCode.NO_BUNDLE,
        `${request.user} has no registered identity (a legacy client, or unknown here)`,
        request.id,
      );
    }
    let opk: ReturnType<ServerStore['takePrekey']>;
    if (this.#store.countPrekeys(request.user) > 0) {
      if (this.#targets.take(binding.identityKey, now)) opk = this.#store.takePrekey(request.user);
      else this.#stats.rateLimited.inc('bundle_opk');
    }
    const bundle: Record<string, unknown> = {
      type: 'bundle',
      user: binding.name,
      ...(request.id === undefined ? {} : { id: request.id }),
      pub,
      idk: binding.identityKey,
      sig,
      ...(opk ? { opk } : {}),
      online: online !== undefined,
    };
    if (opk && online) {
      const left = this.#store.countPrekeys(request.user);
      if (left < PREKEY_LOW_WATERMARK)
        online.offer(`{"type":"prekeys","stored":${left}}\n`, 'prekeys');
    }
    return `${JSON.stringify(bundle)}\n`;
  }

  /** Stored count for `owner` (sent after hello so the client knows whether to upload). */
  countLine(owner: O): string {
    return `{"type":"prekeys","stored":${this.#store.countPrekeys(owner.name)}}\n`;
  }
}
