import type { PeerInfo } from '../../protocol/index.js';
import type { ClientEvent, TrustEvent } from '../events.js';
import type { Peer, PeerBook } from './peer-book.js';
import type { TrustStore } from './trust-store.js';
import { TrustCode, trustAlert } from './trust-text.js';

/** Server capabilities that are part of its trust floor. */
const SERVER_SECURITY_CAPS = ['ratchet'];

interface SyncHost {
  readonly name: string;
  readonly peers: PeerBook;
  readonly trust: TrustStore | undefined;
  /** Our own keys as they should be listed (Base64). */
  readonly ownKeys: { pub: string; idk?: string };
  emit(event: 'event', payload: ClientEvent): boolean;
  notice(kind: 'info' | 'warning' | 'error', text: string, code?: string): void;
  now(): number;
}

/**
 * Applies directory frames (`welcome` / `users` snapshots, v2 `presence` deltas) to the peer
 * book and turns the changes into events: joins, leaves, and loud trust alerts for names
 * whose key changed, who offer less than they were seen with, or who are not the invited
 * key (each alerted once per state). Every valid identity seen is remembered with the most
 * it offered (its floor), so a later downgrade by the server is caught even before the
 * first message. A directory that lists another key for ourselves is reported too.
 */
export class DirectorySync {
  #host: SyncHost;
  #alerted = new Set<string>();

  constructor(host: SyncHost) {
    this.#host = host;
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
    this.#reviewAll();
  }

  /**
   * A welcome: the server's capabilities against its floor (what it offered at best under
   * this pin). A server that drops `ratchet` turns forward secrecy off for everyone: loud.
   */
  welcome(caps: readonly string[]): void {
    const trust = this.#host.trust;
    if (!trust) return;
    const lacking = trust.observeServer(this.#host.peers.server, caps, SERVER_SECURITY_CAPS);
    if (!lacking.includes('ratchet')) return;
    this.#host.emit('event', {
      kind: 'trust',
      ts: this.#host.now(),
      code: TrustCode.serverDowngrade,
      lost: ['forward secrecy'],
      text:
        'SERVER DOWNGRADE: this server offered forward secrecy (ratchet) before, under the same ' +
        'certificate, and no longer does: forward secrecy is off for everyone here. Messages to ' +
        'people you saw with it are blocked. Accept for one person with /trust <name>, or for ' +
        'this server with /trust --server.',
    });
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
    this.#review(result.peer);
  }

  /** Looks at every listed peer (one write of the trust store for the whole snapshot). */
  #reviewAll(): void {
    const review = () => {
      for (const peer of this.#host.peers.all()) this.#review(peer);
    };
    if (this.#host.trust) this.#host.trust.batch(review);
    else review();
  }

  #isSelf(peer: Peer): boolean {
    return peer.name.toLowerCase() === this.#host.name.toLowerCase();
  }

  #presence(event: 'join' | 'leave', peer: Peer): void {
    this.#host.emit('event', {
      kind: 'presence',
      ts: this.#host.now(),
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

  #review(peer: Peer): void {
    if (this.#isSelf(peer)) {
      this.#checkSelf(peer);
      return;
    }
    const peers = this.#host.peers;
    const assessment = peers.observe(peer);
    const alert = trustAlert(peer, assessment, this.#host.trust?.get(peers.server, peer.name));
    if (!alert) return;
    this.#alertOnce(
      `${alert.code}|${peer.name.toLowerCase()}|${peer.idk}|${peer.pub}|${alert.lost}`,
      {
        user: peer.name,
        code: alert.code,
        ...(alert.lost.length > 0 ? { lost: alert.lost } : {}),
        ...(peer.identityFingerprint ? { fingerprint: peer.identityFingerprint } : {}),
        text: alert.text,
      },
    );
  }

  /** The directory's entry for our own name must carry our own keys. */
  #checkSelf(peer: Peer): void {
    const own = this.#host.ownKeys;
    if (peer.pub === own.pub && (peer.idk === undefined || peer.idk === own.idk)) return;
    const listed = peer.identityFingerprint ?? peer.fingerprint;
    this.#alertOnce(`self|${peer.idk}|${peer.pub}`, {
      user: peer.name,
      code: TrustCode.keyChanged,
      fingerprint: listed,
      text:
        `the server lists another key for you (${listed}) than yours: whoever has not verified ` +
        'you may be writing to the server instead of you. Your own notes and messages still use ' +
        'your own keys.',
    });
  }

  /** Emits a trust alert once per state (`key`), however often the directory repeats it. */
  #alertOnce(key: string, alert: Omit<TrustEvent, 'kind' | 'ts'>): void {
    if (this.#alerted.has(key)) return;
    this.#alerted.add(key);
    this.#host.emit('event', { kind: 'trust', ts: this.#host.now(), ...alert });
  }
}
