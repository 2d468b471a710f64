import {
  ed25519Verify,
  fromBase64,
  identityFingerprint,
  keyFingerprint,
  nameKey,
  type PeerInfo,
  ProtocolError,
  prekeySignatureMessage,
} from '../protocol/index.js';
import type { KeyTrust, TrustStore } from './trust-store.js';

/**
 * How far a peer's key can be trusted:
 * - legacy: v1 peer, X25519 key with no identity (anyone, including the server, could
 *   have made it);
 * - invalid: v2 peer whose key signature does not verify (never encrypted to);
 * - new / known / verified / changed: v2 identity key compared with what we remember.
 */
export type PeerStatus = 'legacy' | 'invalid' | KeyTrust;

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
  #version = 0;

  constructor(options: { trust?: TrustStore; server: string }) {
    this.#trust = options.trust;
    this.#server = options.server;
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

  status(peer: Peer): PeerStatus {
    if (!peer.idk) return 'legacy';
    if (!this.signatureValid(peer)) return 'invalid';
    if (!this.#trust) return 'new';
    return this.#trust.assess(this.#server, peer.name, peer.idk);
  }

  /** First interaction: remember a new identity (TOFU). Returns the resulting status. */
  remember(peer: Peer): PeerStatus {
    const status = this.status(peer);
    if (status === 'new' && this.#trust && peer.idk) {
      return this.#trust.rememberIfNew(this.#server, peer.name, peer.idk);
    }
    return status;
  }

  /** `/trust`: accept the peer's current identity key. */
  trustCurrent(peer: Peer): void {
    if (this.#trust && peer.idk) this.#trust.trust(this.#server, peer.name, peer.idk);
  }

  /** `/verify` succeeded: mark the current identity key verified. */
  markVerified(peer: Peer): void {
    if (this.#trust && peer.idk) this.#trust.markVerified(this.#server, peer.name, peer.idk);
  }
}
