import { fromBase64, keyFingerprint, nameKey, ProtocolError } from '../protocol/index.js';

export interface PeerEntry {
  name: string;
  /** Base64 X25519 key as published by the server. */
  pub: string;
  pubBytes: Uint8Array;
  /** v1 fingerprint of `pub` (`xxxxxxxx-xxxxxxxx`). */
  fingerprint: string;
}

export interface DirectoryDiff {
  joined: PeerEntry[];
  left: PeerEntry[];
  /** Same name, different key (a v1 peer reconnecting, or a swapped key). */
  rekeyed: PeerEntry[];
}

/** The client's view of who is online, updated from `welcome` / `users` frames. */
export class ClientDirectory {
  #peers = new Map<string, PeerEntry>();
  #version = 0;

  /** Increments whenever the directory is replaced (used to retry pending decryptions). */
  get version(): number {
    return this.#version;
  }

  get(name: string): PeerEntry | undefined {
    return this.#peers.get(nameKey(name));
  }

  names(): string[] {
    return [...this.#peers.values()].map((peer) => peer.name);
  }

  entries(): PeerEntry[] {
    return [...this.#peers.values()];
  }

  /** Replaces the directory with a server snapshot and reports what changed. */
  replace(users: ReadonlyMap<string, string>): DirectoryDiff {
    const next = new Map<string, PeerEntry>();
    const diff: DirectoryDiff = { joined: [], left: [], rekeyed: [] };
    for (const [name, pub] of users) {
      let pubBytes: Uint8Array;
      try {
        pubBytes = fromBase64(pub, 'pub', 32);
      } catch (error) {
        if (error instanceof ProtocolError) continue;
        throw error;
      }
      const entry: PeerEntry = { name, pub, pubBytes, fingerprint: keyFingerprint(pubBytes) };
      const key = nameKey(name);
      const previous = this.#peers.get(key);
      if (!previous) diff.joined.push(entry);
      else if (previous.pub !== pub) diff.rekeyed.push(entry);
      next.set(key, entry);
    }
    for (const [key, entry] of this.#peers) if (!next.has(key)) diff.left.push(entry);
    this.#peers = next;
    this.#version++;
    return diff;
  }
}
