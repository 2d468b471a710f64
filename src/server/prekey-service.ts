import {
  type BundleFrame,
  type BundleRequestFrame,
  ErrorCode,
  encodeBundle,
  encodeError,
  encodePrekeyCount,
  fromBase64,
  KEM_PREKEY_LOW_WATERMARK,
  type KemPrekeyWire,
  kemPrekeyRecord,
  MAX_STORED_KEM_PREKEYS,
  MAX_STORED_PREKEYS,
  MLKEM1024_PUBLIC_KEY_BYTES,
  PREKEY_LOW_WATERMARK,
  type PrekeysUploadFrame,
  SignedPrekeyKind,
  type SignedPrekeyUpload,
  verifyKemPrekey,
  verifyPrekeySignature,
  verifySignedPrekey,
} from '../protocol/index.js';
import { KeyedBuckets } from './limits/window-counter.js';
import type { SendResult } from './session-output.js';
import type { ServerStats } from './stats.js';
import type { KemPrekeyTake, PrekeyTake, ServerStore, StoredSignedPrekey } from './store/index.js';

/** What the service needs to know about online users. */
export interface PrekeyOwner {
  readonly name: string;
  readonly pub: string;
  readonly identityKey: string | undefined;
  readonly keySignature: string | undefined;
  offer(line: string, kind: string): SendResult;
  /** Capabilities of its hello (`pq`: its counts include KEM prekeys). */
  has?(capability: string): boolean;
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
 * KEM prekeys (PQXDH, `pq`): one-time ones are stored and handed out like one-time prekeys
 * (each once, atomically, under the same per-target rate and a cap per identity); past the
 * rate, or when none is left, bundles carry the signed last-resort one (many times).
 */
export class PrekeyService<O extends PrekeyOwner> {
  #store: ServerStore;
  #online: (name: string) => O | undefined;
  #stats: ServerStats;
  #now: () => number;
  #requesters: KeyedBuckets;
  #targets: KeyedBuckets;
  #pq: boolean;
  #shared: SharedBundleRates | undefined;

  constructor(options: {
    store: ServerStore;
    online: (name: string) => O | undefined;
    stats: ServerStats;
    limits: BundleLimits;
    now: () => number;
    /** The server offers `pq` (its line limit fits a KEM upload); default true. */
    pq?: boolean;
    /** The same limits for a whole cluster, checked after this node's own. */
    shared?: SharedBundleRates;
  }) {
    this.#pq = options.pq ?? true;
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
    if ((frame.kem || frame.kemlr || frame.kemreplace) && !this.#pq)
      return encodeError(ErrorCode.BAD_FIELD, 'this server does not offer pq (KEM prekeys)');
    if (frame.kem || frame.kemlr) {
      const identity = owner.identityKey;
      const signed = (key: KemPrekeyWire, lastResort: boolean) =>
        identity !== undefined && kemSignatureValid(identity, key, lastResort);
      if (
        !(frame.kem ?? []).every((k) => signed(k, false)) ||
        (frame.kemlr && !signed(frame.kemlr, true))
      )
        return encodeError(ErrorCode.BAD_PROOF, 'a KEM prekey is not signed by your identity key');
      if (frame.kemlr) await this.storeKemLastResort(owner, frame.kemlr);
      if (frame.kem || frame.kemreplace === true) {
        await this.#store.addKemPrekeys(
          owner.name,
          frame.kem ?? [],
          MAX_STORED_KEM_PREKEYS,
          this.#now(),
          frame.kemreplace === true,
        );
      }
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
   * Stores `owner`'s last-resort KEM prekey (from an upload, or its hello) if this server
   * offers `pq` and its signature verifies; it becomes current if newer than the current one.
   */
  async storeKemLastResort(
    owner: Pick<O, 'name' | 'identityKey'>,
    key: KemPrekeyWire,
  ): Promise<boolean> {
    if (!this.#pq) return true; // not offered here: ignored, like any unknown field
    if (owner.identityKey === undefined || !kemSignatureValid(owner.identityKey, key, true))
      return false;
    const record = { id: key.id, created: key.created, pub: key.pub, sig: key.sig, pubsig: '' };
    await this.#store.putSignedPrekey(owner.name, SignedPrekeyKind.mlkem1024, record, this.#now());
    return true;
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
  async bundle(
    requester: { identityKey: string; pq?: boolean },
    request: BundleRequestFrame,
  ): Promise<string> {
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
    let kemTaken: KemPrekeyTake | undefined;
    const opks = await this.#store.countPrekeys(request.user);
    // One-time KEM prekeys only for requesters that use them (`pq`): others would waste them.
    const usesKem = this.#pq && requester.pq === true;
    const kems = usesKem ? await this.#store.countKemPrekeys(request.user) : 0;
    if (opks > 0 || kems > 0) {
      // One token of the target's rate (this node's, then the cluster's) covers both
      // one-time keys of a bundle.
      if (
        this.#targets.take(binding.identityKey, now) &&
        (await this.#shared?.takeOpk(binding.identityKey, now)) !== false
      ) {
        if (opks > 0) taken = await this.#store.takePrekey(request.user);
        if (kems > 0) kemTaken = await this.#store.takeKemPrekey(request.user);
      } else this.#stats.rateLimited.inc('bundle_opk');
    }
    const opk = taken?.prekey;
    const lastResort =
      kemTaken?.prekey || !usesKem
        ? undefined
        : await this.#store.signedPrekey(request.user, SignedPrekeyKind.mlkem1024);
    const kem = kemTaken?.prekey ?? (lastResort && { ...kemWire(lastResort), last: true as const });
    const bundle: BundleFrame = {
      type: 'bundle',
      user: binding.name,
      ...(request.id === undefined ? {} : { id: request.id }),
      pub,
      idk: binding.identityKey,
      sig,
      ...(spk ? { spk: { id: spk.id, created: spk.created, sig: spk.sig } } : {}),
      ...(opk ? { opk } : {}),
      ...(kem ? { kem } : {}),
      online: this.#online(request.user) !== undefined,
      caps: binding.caps,
    };
    const owner = this.#online(request.user);
    const low =
      (taken?.prekey !== undefined && taken.left < PREKEY_LOW_WATERMARK) ||
      (kemTaken?.prekey !== undefined && kemTaken.left < KEM_PREKEY_LOW_WATERMARK);
    if (owner && low) owner.offer(await this.countLine(owner), 'prekeys');
    return encodeBundle(bundle);
  }

  /**
   * Stored count and current signed prekey for `owner` (sent after the welcome, so the client
   * knows whether to upload).
   */
  async countLine(owner: Pick<O, 'name' | 'has'>): Promise<string> {
    const stored = await this.#store.countPrekeys(owner.name);
    const spk = await this.#store.signedPrekey(owner.name, SignedPrekeyKind.x25519);
    const head = spk && { id: spk.id, created: spk.created };
    if (!this.#pq || owner.has?.('pq') !== true) return encodePrekeyCount(stored, head);
    const kemlr = await this.#store.signedPrekey(owner.name, SignedPrekeyKind.mlkem1024);
    return encodePrekeyCount(stored, head, {
      kem: await this.#store.countKemPrekeys(owner.name),
      ...(kemlr ? { kemlr: { id: kemlr.id, created: kemlr.created } } : {}),
    });
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

/** A KEM prekey's signature (one-time or last resort) verifies with the owner's identity key. */
function kemSignatureValid(identityKey: string, key: KemPrekeyWire, lastResort: boolean): boolean {
  const publicKey = fromBase64(key.pub, 'pub', MLKEM1024_PUBLIC_KEY_BYTES);
  return verifyKemPrekey(
    fromBase64(identityKey, 'idk', 32),
    kemPrekeyRecord(key, lastResort, publicKey),
    fromBase64(key.sig, 'sig', 64),
  );
}

/** The wire form of a stored last-resort KEM prekey. */
function kemWire(stored: StoredSignedPrekey): KemPrekeyWire {
  return { id: stored.id, created: stored.created, pub: stored.pub, sig: stored.sig };
}

export type { StoredSignedPrekey };
