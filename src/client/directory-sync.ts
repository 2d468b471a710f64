import type { PeerInfo } from '../protocol/index.js';
import type { ClientEvent } from './events.js';
import type { Peer, PeerBook } from './peers.js';

interface SyncHost {
  readonly name: string;
  readonly peers: PeerBook;
  emit(event: 'event', payload: ClientEvent): boolean;
  notice(kind: 'info' | 'warning' | 'error', text: string, code?: string): void;
}

/**
 * Applies directory frames (`welcome` / `users` snapshots, v2 `presence` deltas) to the peer
 * book and turns the changes into events: joins, leaves, and loud warnings for identity keys
 * that changed or whose signature does not verify (each warned about once).
 */
export class DirectorySync {
  #host: SyncHost;
  #now: () => number;
  #warned = new Set<string>();

  constructor(host: SyncHost, now: () => number) {
    this.#host = host;
    this.#now = now;
  }

  snapshot(
    users: ReadonlyMap<string, string>,
    peers: ReadonlyMap<string, PeerInfo> | undefined,
    initial: boolean,
  ): void {
    const diff = this.#host.peers.replaceAll(users, peers);
    if (!initial) {
      for (const peer of diff.joined) this.#presence('join', peer);
      for (const peer of diff.left) this.#presence('leave', peer);
      for (const peer of diff.rekeyed) this.#rekeyed(peer);
    }
    for (const peer of this.#host.peers.all()) this.#warnIfUntrustworthy(peer);
  }

  presence(event: 'join' | 'leave', user: string, info: PeerInfo | undefined): void {
    if (event === 'leave') {
      const peer = this.#host.peers.remove(user);
      if (peer) this.#presence('leave', peer);
      return;
    }
    if (!info) return;
    const result = this.#host.peers.upsert(user, info);
    if (!result) return;
    if (result.change === 'joined') this.#presence('join', result.peer);
    else if (result.change === 'rekeyed') this.#rekeyed(result.peer);
    this.#warnIfUntrustworthy(result.peer);
  }

  #isSelf(peer: Peer): boolean {
    return peer.name.toLowerCase() === this.#host.name.toLowerCase();
  }

  #presence(event: 'join' | 'leave', peer: Peer): void {
    this.#host.emit('event', {
      kind: 'presence',
      ts: this.#now(),
      event,
      user: peer.name,
      fingerprint: peer.identityFingerprint ?? peer.fingerprint,
    });
  }

  #rekeyed(peer: Peer): void {
    if (this.#isSelf(peer) || peer.idk) return;
    this.#host.notice(
      'info',
      `${peer.name} reconnected with a new key (fingerprint ${peer.fingerprint})`,
    );
  }

  #warnIfUntrustworthy(peer: Peer): void {
    if (this.#isSelf(peer)) return;
    const status = this.#host.peers.status(peer);
    if (status !== 'changed' && status !== 'invalid') return;
    const key = `${status}|${peer.name.toLowerCase()}|${peer.idk}|${peer.pub}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    if (status === 'changed') {
      this.#host.notice(
        'warning',
        `SAFETY NUMBER CHANGED: ${peer.name} now has identity ${peer.identityFingerprint}. ` +
          `It may be a new device, or someone in the middle. Messages to ${peer.name} are blocked until you ` +
          `compare safety numbers (/verify ${peer.name}) and accept the key (/trust ${peer.name}).`,
        'E_KEY_CHANGED',
      );
    } else {
      this.#host.notice(
        'warning',
        `${peer.name}'s X25519 key is not signed by their identity key: the server may be swapping keys. Not encrypting to ${peer.name}.`,
        'E_BAD_KEY_SIGNATURE',
      );
    }
  }
}
