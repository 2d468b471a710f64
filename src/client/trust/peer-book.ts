import {
  ed25519Verify,
  fromBase64,
  identityFingerprint,
  keyFingerprint,
  nameKey,
  type PeerInfo,
  ProtocolError,
  prekeySignatureMessage,
} from '../../protocol/index.js';
import {
  missingFeatures,
  type Offer,
  offeredFeatures,
  type SecurityFeature,
} from './trust-floor.js';
import type { KeyTrust, KnownPeer, TrustStore } from './trust-store.js';

/**
 * How far a peer's key can be trusted:
 * - legacy: v1 peer, X25519 key with no identity (anyone, including the server, could
 *   have made it);
 * - invalid: v2 peer whose key signature does not verify (never encrypted to);
 * - new / known / verified / changed: v2 identity key compared with what we remember; a
 *   name that offers less than it was seen with (its floor) is `changed` too.
 */
export type PeerStatus = 'legacy' | 'invalid' | KeyTrust;

/** A peer's standing, with why it is `changed` and what would be lost by accepting it. */
export interface PeerAssessment {
  status: PeerStatus;
  /** `key`: another identity key; `downgrade`: below the floor; `invite`: not the invited key. */
  reason?: 'key' | 'downgrade' | 'invite';
  lost: SecurityFeature[];
}

export interface Peer {
  name: string;
  /** Base64 X25519 key. */
  pub: string;
  pubBytes: Uint8Array;
  v: number;
  /** v1 fingerprint of `pub`. */
  fingerprint: string;
  idk?: string;
  idkBytes?: Uint8Array;
  sig?: string;
  caps?: string[];
  /** Fingerprint of the identity key (v2). */
  identityFingerprint?: string;
}

export interface DirectoryDiff {
  joined: Peer[];
  left: Peer[];
  /** Same name, different keys. */
  rekeyed: Peer[];
}

function toPeer(name: string, info: PeerInfo): Peer | undefined {
  try {
    const pubBytes = fromBase64(info.pub, 'pub', 32);
    const peer: Peer = {
      name,
      pub: info.pub,
      pubBytes,
      v: info.v,
      fingerprint: keyFingerprint(pubBytes),
    };
    if (info.v >= 2 && info.idk && info.sig) {
      peer.idk = info.idk;
      peer.idkBytes = fromBase64(info.idk, 'idk', 32);
      peer.sig = info.sig;
      peer.identityFingerprint = identityFingerprint(peer.idkBytes);
    }
    if (info.caps) peer.caps = info.caps;
    return peer;
  } catch (error) {
    if (error instanceof ProtocolError) return undefined;
    throw error;
  }
}

/**
 * The client's view of who is online and how far each key can be trusted. Key signatures
 * are verified lazily and cached (a big directory costs nothing until someone is used).
 */
export class PeerBook {
  #peers = new Map<string, Peer>();
  #sigCache = new Map<string, boolean>();
  #trust: TrustStore | undefined;
  #server: string;
  #serverRatchet: () => boolean;
  #serverSpk: () => boolean;
  #serverPq: () => boolean;
  #version = 0;

  constructor(options: {
    trust?: TrustStore;
    server: string;
    serverRatchet?: () => boolean;
    serverSpk?: () => boolean;
    serverPq?: () => boolean;
  }) {
    this.#trust = options.trust;
    this.#server = options.server;
    this.#serverRatchet = options.serverRatchet ?? (() => true);
    this.#serverSpk = options.serverSpk ?? (() => false);
    this.#serverPq = options.serverPq ?? (() => false);
  }

  /** The server certificate pin this book's trust is scoped to. */
  get server(): string {
    return this.#server;
  }

  /** Increments on every change (pending decryptions are retried when it moves). */
  get version(): number {
    return this.#version;
  }

  get(name: string): Peer | undefined {
    return this.#peers.get(nameKey(name));
  }

  all(): Peer[] {
    return [...this.#peers.values()];
  }

  names(): string[] {
    return this.all().map((peer) => peer.name);
  }

  /** Replaces everything with a server snapshot (`welcome` / `users`). */
  replaceAll(
    users: ReadonlyMap<string, string>,
    peers?: ReadonlyMap<string, PeerInfo>,
  ): DirectoryDiff {
    const next = new Map<string, Peer>();
    const diff: DirectoryDiff = { joined: [], left: [], rekeyed: [] };
    const source: Iterable<[string, PeerInfo]> =
      peers ?? [...users].map(([name, pub]): [string, PeerInfo] => [name, { pub, v: 1 }]);
    for (const [name, info] of source) {
      const peer = toPeer(name, info);
      if (!peer) continue;
      const previous = this.#peers.get(nameKey(name));
      if (!previous) diff.joined.push(peer);
      else if (previous.pub !== peer.pub || previous.idk !== peer.idk) diff.rekeyed.push(peer);
      next.set(nameKey(name), peer);
    }
    for (const [key, peer] of this.#peers) if (!next.has(key)) diff.left.push(peer);
    this.#peers = next;
    this.#version++;
    return diff;
  }

  /** Applies a v2 presence join; returns the peer and whether it is new or rekeyed. */
  upsert(
    name: string,
    info: PeerInfo,
  ): { peer: Peer; change: 'joined' | 'rekeyed' | 'same' } | undefined {
    const peer = toPeer(name, info);
    if (!peer) return undefined;
    const previous = this.#peers.get(nameKey(name));
    this.#peers.set(nameKey(name), peer);
    this.#version++;
    if (!previous) return { peer, change: 'joined' };
    return {
      peer,
      change: previous.pub !== peer.pub || previous.idk !== peer.idk ? 'rekeyed' : 'same',
    };
  }

  remove(name: string): Peer | undefined {
    const peer = this.#peers.get(nameKey(name));
    if (peer) {
      this.#peers.delete(nameKey(name));
      this.#version++;
    }
    return peer;
  }

  /** Whether the identity key vouches for the X25519 key (cached per triple). */
  signatureValid(peer: Peer): boolean {
    if (!peer.idkBytes || !peer.sig) return false;
    const cacheKey = `${peer.idk}|${peer.pub}|${peer.sig}`;
    let valid = this.#sigCache.get(cacheKey);
    if (valid === undefined) {
      let signature: Uint8Array;
      try {
        signature = fromBase64(peer.sig, 'sig', 64);
        valid = ed25519Verify(peer.idkBytes, prekeySignatureMessage(peer.pubBytes), signature);
      } catch {
        valid = false;
      }
      if (this.#sigCache.size > 4096) this.#sigCache.clear();
      this.#sigCache.set(cacheKey, valid);
    }
    return valid;
  }

  /** What `peer`'s entry offers now; `envelope: 'v1'` for a message that came without the ratchet. */
  offer(peer: Peer, envelope?: 'v1'): Offer {
    return {
      v: peer.v,
      identity: peer.idk !== undefined && this.signatureValid(peer),
      ratchet: envelope !== 'v1' && peer.v >= 2 && (peer.caps?.includes('ratchet') ?? false),
      serverRatchet: this.#serverRatchet(),
      spk: envelope !== 'v1' && peer.v >= 2 && (peer.caps?.includes('spk') ?? false),
      serverSpk: this.#serverSpk(),
      pq: envelope !== 'v1' && peer.v >= 2 && (peer.caps?.includes('pq') ?? false),
      serverPq: this.#serverPq(),
    };
  }

  status(peer: Peer): PeerStatus {
    return this.assess(peer).status;
  }

  /**
   * How far `peer` can be trusted now, against what we remember: a name seen with an
   * identity (or the ratchet) that now offers less is `changed` (a downgrade, with what is
   * lost), as is another identity key or one that is not the invited one.
   */
  assess(peer: Peer, envelope?: 'v1'): PeerAssessment {
    const offer = this.offer(peer, envelope);
    const known = this.#trust?.get(this.#server, peer.name);
    if (!known) {
      if (!peer.idk) return { status: 'legacy', lost: [] };
      return { status: offer.identity ? 'new' : 'invalid', lost: [] };
    }
    const offered = offeredFeatures(offer);
    if (!offer.identity) {
      const lost = missingFeatures(known.floor, offered);
      if (known.expected !== undefined) return { status: 'changed', reason: 'invite', lost };
      if (lost.length > 0) return { status: 'changed', reason: 'downgrade', lost };
      return { status: peer.idk ? 'invalid' : 'legacy', lost: [] };
    }
    const trust = this.#trust!.assess(this.#server, peer.name, peer.idk!);
    if (trust === 'changed') {
      return { status: 'changed', reason: known.expected ? 'invite' : 'key', lost: [] };
    }
    const lost = missingFeatures(known.floor, offered);
    if (lost.length > 0) return { status: 'changed', reason: 'downgrade', lost };
    return { status: trust, lost: [] };
  }

  /**
   * Records that `peer` was seen (trust on first use for a new identity, a higher floor for
   * a known one) and returns its standing afterwards.
   */
  observe(peer: Peer): PeerAssessment {
    const assessment = this.assess(peer);
    if (!this.#trust || !peer.idk) return assessment;
    if (
      assessment.status !== 'new' &&
      assessment.status !== 'known' &&
      assessment.status !== 'verified'
    )
      return assessment;
    this.#trust.observe(
      this.#server,
      peer.name,
      peer.idk,
      peer.v,
      offeredFeatures(this.offer(peer)),
    );
    return this.assess(peer);
  }

  /**
   * `/trust`: accept what `peer` offers now as its floor (its current identity key, if it
   * has a valid one, else the one remembered).
   */
  trustCurrent(peer: Peer): void {
    if (!this.#trust) return;
    const offer = this.offer(peer);
    this.#trust.accept(this.#server, peer.name, offer.identity ? peer.idk : undefined, {
      v: peer.v,
      features: offeredFeatures(offer),
    });
  }

  /** `/verify` succeeded: mark the current identity key verified. */
  markVerified(peer: Peer): void {
    if (this.#trust && peer.idk) this.#trust.markVerified(this.#server, peer.name, peer.idk);
  }

  // What we remember on this server, whoever is listed now (a sender may be offline).

  /** Whether trust decisions are remembered (a client with an identity); legacy ones keep none. */
  get remembers(): boolean {
    return this.#trust !== undefined;
  }

  /** What we remember about `name` on this server. */
  known(name: string): KnownPeer | undefined {
    return this.#trust?.get(this.#server, name);
  }

  /**
   * How `identityKey`, which authenticated a message from `name`, relates to what we
   * remember; `known` when this client remembers nothing.
   */
  identityStatus(name: string, identityKey: string): KeyTrust {
    return this.#trust ? this.#trust.assess(this.#server, name, identityKey) : 'known';
  }

  /** Trust on first use of an identity that authenticated a ratchet message or bundle. */
  rememberIdentity(name: string, identityKey: string): void {
    this.#trust?.rememberIfNew(this.#server, name, identityKey);
  }

  /** Records what the server's welcome offers; returns the floor capabilities it lacks. */
  observeServer(caps: readonly string[], security: readonly string[]): string[] {
    return this.#trust ? this.#trust.observeServer(this.#server, caps, security) : [];
  }

  /** `/trust --server`: see TrustStore.acceptServerWithoutRatchet. */
  acceptServerWithoutRatchet(): number {
    return this.#trust ? this.#trust.acceptServerWithoutRatchet(this.#server) : 0;
  }

  /** Runs `fn`, writing what it remembers at most once (a directory snapshot sees many names). */
  batch<T>(fn: () => T): T {
    return this.#trust ? this.#trust.batch(fn) : fn();
  }
}
