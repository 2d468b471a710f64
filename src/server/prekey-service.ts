import {
  type BundleFrame,
  type BundleRequestFrame,
  ErrorCode,
  encodeBundle,
  encodeError,
  encodePrekeyCount,
  fromBase64,
  MAX_STORED_PREKEYS,
  PREKEY_LOW_WATERMARK,
  type PrekeysUploadFrame,
  SignedPrekeyKind,
  type SignedPrekeyUpload,
  verifyPrekeySignature,
  verifySignedPrekey,
} from '../protocol/index.js';
import { KeyedBuckets } from './limits/window-counter.js';
import type { SendResult } from './session-output.js';
import type { ServerStats } from './stats.js';
import type { PrekeyTake, ServerStore, StoredSignedPrekey } from './store/index.js';

/** What the service needs to know about online users. */
export interface PrekeyOwner {
  readonly name: string;
  readonly pub: string;
  readonly identityKey: string | undefined;
  readonly keySignature: string | undefined;
  offer(line: string, kind: string): SendResult;
}

/** Bundle limits shared by a cluster's nodes (cluster/cluster-node.ts). */
export interface SharedBundleRates {
  takeBundle(requesterIdentity: string, now: number): Promise<boolean>;
  takeOpk(targetIdentity: string, now: number): Promise<boolean>;
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
 * left, the owner is told to upload more. Signed prekeys (`spk`): the owner's current and
 * previous one are kept; bundles hand out the current one with its id, age and signatures,
 * and the owner is told which one that is (so it knows whether to upload).
 */
export class PrekeyService<O extends PrekeyOwner> {
  #store: ServerStore;
  #online: (name: string) => O | undefined;
  #stats: ServerStats;
  #now: () => number;
  #requesters: KeyedBuckets;
  #targets: KeyedBuckets;
  #shared: SharedBundleRates | undefined;

  constructor(options: {
    store: ServerStore;
    online: (name: string) => O | undefined;
    stats: ServerStats;
    limits: BundleLimits;
    now: () => number;
    /** The same limits for a whole cluster, checked after this node's own. */
    shared?: SharedBundleRates;
  }) {
    this.#shared = options.shared;
    this.#store = options.store;
    this.#online = options.online;
    this.#stats = options.stats;
    this.#now = options.now;
    const { perMinute, opksPerTargetPerHour } = options.limits;
    this.#requesters = new KeyedBuckets(perMinute / 60, perMinute);
    this.#targets = new KeyedBuckets(opksPerTargetPerHour / 3600, opksPerTargetPerHour);
  }

  /** Stores an upload from `owner` (a v2 session with an identity) and answers with the stored count. */
  async upload(owner: O, frame: PrekeysUploadFrame): Promise<string> {
    if (frame.spk && !(await this.storeSignedPrekey(owner, frame.spk))) {
      return encodeError(
        ErrorCode.BAD_PROOF,
        'the signed prekey is not signed by your identity key',
      );
    }
    if (frame.keys.length > 0 || frame.replace === true) {
      await this.#store.addPrekeys(
        owner.name,
        frame.keys,
        MAX_STORED_PREKEYS,
        this.#now(),
        frame.replace === true,
      );
    }
    return this.countLine(owner);
  }

  /**
   * Stores `owner`'s signed prekey (from an upload, or its hello) if both its signatures
   * verify with the owner's identity key; it becomes current if newer than the current one.
   */
  async storeSignedPrekey(
    owner: Pick<O, 'name' | 'identityKey'>,
    spk: SignedPrekeyUpload,
  ): Promise<boolean> {
    if (owner.identityKey === undefined || !signaturesValid(owner.identityKey, spk)) return false;
    await this.#store.putSignedPrekey(owner.name, SignedPrekeyKind.x25519, spk, this.#now());
    return true;
  }

  /**
   * The answer to a bundle request from `requester` (a session with an identity): a bundle,
   * or an error line. The one-time prekey is taken in one atomic store step, so two
   * requesters racing for the last one cannot both get it.
   */
  async bundle(requester: { identityKey: string }, request: BundleRequestFrame): Promise<string> {
    const now = this.#now();
    if (
      !this.#requesters.take(requester.identityKey, now) ||
      (await this.#shared?.takeBundle(requester.identityKey, now)) === false
    ) {
      this.#stats.rateLimited.inc('bundle');
      return encodeError(ErrorCode.RATE_LIMITED, 'too many bundle requests', request.id);
    }
    const binding = await this.#store.getBinding(request.user);
    const spk = binding && (await this.#store.signedPrekey(request.user, SignedPrekeyKind.x25519));
    const online = this.#online(request.user);
    const same = online !== undefined && online.identityKey === binding?.identityKey;
    const pub = spk ? spk.pub : same ? online.pub : binding?.pub;
    const sig = spk ? spk.pubsig : same ? online.keySignature : binding?.pubsig;
    if (!binding || !pub || !sig) {
      return encodeError(
        ErrorCode.NO_BUNDLE,
        `${request.user} has no registered identity (a legacy client, or unknown here)`,
        request.id,
      );
    }
    let taken: PrekeyTake | undefined;
    if ((await this.#store.countPrekeys(request.user)) > 0) {
      if (
        this.#targets.take(binding.identityKey, now) &&
        (await this.#shared?.takeOpk(binding.identityKey, now)) !== false
      )
        taken = await this.#store.takePrekey(request.user);
      else this.#stats.rateLimited.inc('bundle_opk');
    }
    const opk = taken?.prekey;
    const bundle: BundleFrame = {
      type: 'bundle',
      user: binding.name,
      ...(request.id === undefined ? {} : { id: request.id }),
      pub,
      idk: binding.identityKey,
      sig,
      ...(spk ? { spk: { id: spk.id, created: spk.created, sig: spk.sig } } : {}),
      ...(opk ? { opk } : {}),
      online: this.#online(request.user) !== undefined,
      caps: binding.caps,
    };
    const owner = this.#online(request.user);
    if (taken?.prekey && owner && taken.left < PREKEY_LOW_WATERMARK)
      owner.offer(await this.countLine(owner), 'prekeys');
    return encodeBundle(bundle);
  }

  /**
   * Stored count and current signed prekey for `owner` (sent after the welcome, so the client
   * knows whether to upload).
   */
  async countLine(owner: Pick<O, 'name'>): Promise<string> {
    const stored = await this.#store.countPrekeys(owner.name);
    const spk = await this.#store.signedPrekey(owner.name, SignedPrekeyKind.x25519);
    return encodePrekeyCount(stored, spk && { id: spk.id, created: spk.created });
  }
}

/** Both signatures of an uploaded signed prekey verify with the owner's identity key. */
function signaturesValid(identityKey: string, spk: SignedPrekeyUpload): boolean {
  const identity = fromBase64(identityKey, 'idk', 32);
  const publicKey = fromBase64(spk.pub, 'pub', 32);
  const record = { kind: SignedPrekeyKind.x25519, id: spk.id, created: spk.created, publicKey };
  return (
    verifySignedPrekey(identity, record, fromBase64(spk.sig, 'sig', 64)) &&
    verifyPrekeySignature(identity, publicKey, fromBase64(spk.pubsig, 'pubsig', 64))
  );
}

export type { StoredSignedPrekey };
