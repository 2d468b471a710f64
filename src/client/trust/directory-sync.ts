import { nameKey, type PeerInfo } from '../../protocol/index.js';
import type { EventSink, PeerSummary, TrustEvent } from '../events.js';
import type { LocalUser } from '../identity/local-user.js';
import type { ServerLink } from '../net/server-session.js';
import type { Peer, PeerBook } from './peer-book.js';
import { peerSummary } from './peer-summaries.js';
import { TrustCode, trustAlert } from './trust-text.js';

/** Server capabilities that are part of its trust floor. */
const SERVER_SECURITY_CAPS = ['ratchet'];

export interface DirectorySyncOptions {
  user: LocalUser;
  peers: PeerBook;
  link: ServerLink;
  sink: EventSink;
}

/**
 * Applies directory frames (`welcome` / `users` snapshots, v2 `presence` deltas) to the peer
 * book and turns the changes into events: joins, leaves, and loud trust alerts for names
 * whose key changed, who offer less than they were seen with, or who are not the invited
 * key (each alerted once per state). Every valid identity seen is remembered with the most
 * it offered (its floor), so a later downgrade by the server is caught even before the
 * first message. A directory that lists another key for ourselves is reported too. The
 * directory is shown (a `users` event) at the welcome and when the user asked for it.
 */
export class DirectorySync {
  #options: DirectorySyncOptions;
  #alerted = new Set<string>();
  #listRequested = false;

  constructor(options: DirectorySyncOptions) {
    this.#options = options;
  }

  /** Asks the server for the directory (`/list`); the answer is shown. False when offline. */
  request(): boolean {
    if (!this.#options.link.ready) return false;
    this.#listRequested = true;
    return this.#options.link.send({ type: 'list' });
  }

  /** Asks for the directory unless a request is on its way (to learn a sender's new key). */
  refresh(): void {
    if (!this.#listRequested) this.request();
  }

  /** The directory as /list shows it. */
  summaries(): PeerSummary[] {
    const { peers, user } = this.#options;
    return peers.all().map((peer) => peerSummary(peers, user.name, peer.name));
  }

  /** A `welcome` (`initial`) or `users` snapshot replaces the directory. */
  snapshot(
    users: ReadonlyMap<string, string>,
    peers: ReadonlyMap<string, PeerInfo> | undefined,
    initial: boolean,
  ): void {
    const listRequested = this.#listRequested;
    this.#listRequested = false;
    const diff = this.#options.peers.replaceAll(users, peers);
    if (!initial) {
      for (const peer of diff.joined) this.#presence('join', peer);
      for (const peer of diff.left) this.#presence('leave', peer);
      for (const peer of diff.rekeyed) this.#rekeyed(peer);
    }
    this.#reviewAll();
    if (initial || listRequested)
      this.#options.sink.event({ kind: 'users', users: this.summaries() });
  }

  /**
   * A welcome: the server's capabilities against its floor (what it offered at best under
   * this pin). A server that drops `ratchet` turns forward secrecy off for everyone: loud.
   */
  welcome(caps: readonly string[]): void {
    const lacking = this.#options.peers.observeServer(caps, SERVER_SECURITY_CAPS);
    if (!lacking.includes('ratchet')) return;
    this.#options.sink.event({
      kind: 'trust',
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
    const { peers } = this.#options;
    if (event === 'leave') {
      const peer = peers.remove(user);
      if (peer) this.#presence('leave', peer);
      return;
    }
    if (!info) return;
    const result = peers.upsert(user, info);
    if (!result) return;
    if (result.change === 'joined') this.#presence('join', result.peer);
    else if (result.change === 'rekeyed') this.#rekeyed(result.peer);
    this.#review(result.peer);
  }

  /** Looks at every listed peer (one write of the trust store for the whole snapshot). */
  #reviewAll(): void {
    const { peers } = this.#options;
    peers.batch(() => {
      for (const peer of peers.all()) this.#review(peer);
    });
  }

  #presence(event: 'join' | 'leave', peer: Peer): void {
    this.#options.sink.event({
      kind: 'presence',
      event,
      user: peer.name,
      fingerprint: peer.identityFingerprint ?? peer.fingerprint,
    });
  }

  #rekeyed(peer: Peer): void {
    if (this.#options.user.is(peer.name) || peer.idk) return;
    this.#options.sink.notice(
      'info',
      `${peer.name} reconnected with a new key (fingerprint ${peer.fingerprint})`,
    );
  }

  #review(peer: Peer): void {
    if (this.#options.user.is(peer.name)) {
      this.#checkSelf(peer);
      return;
    }
    const { peers } = this.#options;
    const assessment = peers.observe(peer);
    const alert = trustAlert(peer, assessment, peers.known(peer.name));
    if (!alert) return;
    this.#alertOnce(`${alert.code}|${nameKey(peer.name)}|${peer.idk}|${peer.pub}|${alert.lost}`, {
      user: peer.name,
      code: alert.code,
      ...(alert.lost.length > 0 ? { lost: alert.lost } : {}),
      ...(peer.identityFingerprint ? { fingerprint: peer.identityFingerprint } : {}),
      text: alert.text,
    });
  }

  /** The directory's entry for our own name must carry our own keys. */
  #checkSelf(peer: Peer): void {
    const own = this.#options.user.listed;
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
    this.#options.sink.event({ kind: 'trust', ...alert });
  }
}
