import {
  ErrorCode,
  encodePairwiseContent,
  isValidName,
  nameKey,
  type PairwiseContent,
  ProtocolError,
  sealV1,
  toBase64,
} from '../../protocol/index.js';
import { opensRandomNonce } from '../e2ee/bundle-check.js';
import type { RatchetPeers } from '../e2ee/ratchet-peers.js';
import type { V1KeyCache } from '../e2ee/v1-keys.js';
import { type EventSink, type MessageEvent, Protection, type SendOutcome } from '../events.js';
import type { LocalUser } from '../identity/local-user.js';
import type { ServerLink } from '../net/server-session.js';
import type { Peer, PeerBook } from '../trust/peer-book.js';
import { offeredFeatures, SecurityFeature } from '../trust/trust-floor.js';
import { fingerprintOfKey } from '../trust/trust-store.js';
import { trustAlert } from '../trust/trust-text.js';
import type { DeliveryTracker, Outgoing } from './delivery.js';
import { relayFrame, senderFieldFor } from './relay-frame.js';

export interface OutgoingOptions {
  user: LocalUser;
  link: ServerLink;
  peers: PeerBook;
  /** Forward-secret sessions, when we have an identity and the server offers them. */
  ratchet: () => Pick<RatchetPeers, 'seal'> | undefined;
  v1Keys: V1KeyCache;
  delivery: DeliveryTracker;
  sink: EventSink;
  /** Random per run, so (sender, id) is unique enough for duplicate detection across restarts. */
  idPrefix: string;
  /** The client's clock (the time a message was typed travels inside it). */
  now?: () => number;
}

/**
 * Outgoing direct messages: chooses the envelope per peer (the ratchet for v2 peers that
 * offer it, the v1 envelope for legacy peers, marked "no forward secrecy"), keeps messages
 * to one peer in order (session setup is asynchronous), and reports every message's fate
 * through the delivery tracker: never silently lost. Also carries control content (room
 * sender keys) over the same pairwise sessions, in order with the messages.
 */
export class OutgoingMessages {
  #options: OutgoingOptions;
  #chains = new Map<string, Promise<void>>();
  /** Messages to someone offline, shown once their envelope is sealed (see send). */
  #showWhenSealed = new Set<string>();
  #nextId = 0;

  constructor(options: OutgoingOptions) {
    this.#options = options;
  }

  /** Whether messages to `peer` go through the ratchet. */
  usesRatchet(peer: Peer | undefined): boolean {
    if (!this.#options.ratchet()) return false;
    if (!peer) return true; // offline: only registered v2 identities can be reached
    // Notes to self: a ratchet with yourself would be two sessions under one name; the
    // static envelope with your own key is what the seed protocol does (no forward secrecy).
    if (this.#options.user.is(peer.name)) return false;
    return peer.v >= 2 && peer.idk !== undefined && (peer.caps?.includes('ratchet') ?? false);
  }

  send(to: string, text: string, action: boolean): SendOutcome {
    if (!isValidName(to)) return { ok: false, reason: `invalid user name "${to}"` };
    const { user, link, peers, delivery } = this.#options;
    const message: Outgoing = {
      id: `${this.#options.idPrefix}-${(++this.#nextId).toString(36)}`,
      to,
      text,
      action,
      at: (this.#options.now ?? Date.now)(),
    };
    if (!link.ready) {
      if (!delivery.canQueue) {
        return {
          ok: false,
          reason: `not connected and ${delivery.maxQueued} messages are already queued`,
        };
      }
      // The message first, then its status: a screen marks the line it already shows.
      this.#emit(message, this.#protectionFor(to));
      delivery.enqueue(message);
      return { ok: true, id: message.id };
    }
    const self = user.is(to);
    const peer = self ? undefined : peers.get(to);
    if (!self && !peer && !this.usesRatchet(undefined))
      return { ok: false, reason: `${to} is not online (see /list)` };
    const refusal = peer ? this.#refusalFor(peer) : undefined;
    if (refusal) return { ok: false, reason: refusal };
    // Someone not online is shown once the server vouched for a registered identity (its
    // bundle), so `/msg nobody hi` is refused without first looking sent.
    if (self || peer) this.#emit(message, this.#protectionFor(to), peer);
    else this.#showWhenSealed.add(message.id);
    this.transmit(message);
    return { ok: true, id: message.id };
  }

  /** Sends a message (queued ones too, after a welcome), in order per recipient. */
  transmit(message: Outgoing): void {
    void this.#inOrder(message.to, () => this.#transmitNow(message));
  }

  /**
   * Sends control content (a room sender key) over the pairwise ratchet, in order with the
   * user's messages to that peer; nothing is shown. Resolves false when it could not be sent.
   */
  sendControl(to: string, content: PairwiseContent): Promise<boolean> {
    return this.#inOrder(to, async () => {
      const peer = this.#options.peers.get(to);
      if (!this.usesRatchet(peer) || (peer && this.#refusalFor(peer))) return false;
      try {
        const envelope = await this.#sealRatchet(to, peer, encodePairwiseContent(content));
        const { link, user } = this.#options;
        return link.send(
          relayFrame(to, envelope, undefined, senderFieldFor(link.version, user.name)),
        );
      } catch {
        return false;
      }
    });
  }

  /** Runs `task` after everything sent to `to` before it (sessions start asynchronously). */
  #inOrder<T>(to: string, task: () => Promise<T>): Promise<T> {
    const key = nameKey(to);
    const next = (this.#chains.get(key) ?? Promise.resolve()).then(task);
    const done = next.then(() => undefined);
    this.#chains.set(key, done);
    void done.finally(() => {
      if (this.#chains.get(key) === done) this.#chains.delete(key);
    });
    return next;
  }

  /** Notes to self use the v1 envelope with our own key (never the directory's). */
  #protectionFor(to: string): MessageEvent['protection'] {
    if (this.#options.user.is(to)) return Protection.legacy;
    const peer = this.#options.peers.get(to);
    if (!this.usesRatchet(peer)) return Protection.legacy;
    // Seen with pq: the message goes in a PQXDH session or not at all.
    return this.#requires(to, peer, SecurityFeature.pq) ? Protection.pq : Protection.ratchet;
  }

  /** `feature` is in `to`'s trust floor, or its entry (and the server) offers it now. */
  #requires(to: string, peer: Peer | undefined, feature: SecurityFeature): boolean {
    const { peers } = this.#options;
    return (
      (peers.known(to)?.floor?.features.includes(feature) ?? false) ||
      (peer !== undefined && offeredFeatures(peers.offer(peer)).includes(feature))
    );
  }

  /** Why nothing may be encrypted to `peer` now (its standing is changed or invalid). */
  #refusalFor(peer: Peer): string | undefined {
    const { peers } = this.#options;
    const alert = trustAlert(peer, peers.observe(peer), peers.known(peer.name));
    return alert ? `not sent: ${alert.text}` : undefined;
  }

  async #transmitNow(message: Outgoing): Promise<void> {
    const { user, link, peers, v1Keys, delivery } = this.#options;
    const self = user.is(message.to);
    const peer = self ? undefined : peers.get(message.to);
    const ratchet = !self && this.usesRatchet(peer);
    const plaintext = ratchet
      ? encodePairwiseContent({
          t: message.action ? 'action' : 'text',
          text: message.text,
          ...(message.at === undefined ? {} : { ts: message.at }),
        })
      : message.action
        ? `/me ${message.text}`
        : message.text;
    if (!self && !peer && !ratchet) {
      delivery.report(message, 'failed', `${message.to} is not online`);
      return;
    }
    const refusal = peer ? this.#refusalFor(peer) : undefined;
    if (refusal) {
      delivery.report(message, 'failed', refusal);
      return;
    }
    let envelope: Record<string, string>;
    try {
      const own = user.keyPair.publicKey;
      envelope = self
        ? { ...sealV1(v1Keys.keyFor(toBase64(own), own), plaintext) }
        : ratchet
          ? await this.#sealRatchet(message.to, peer, plaintext)
          : { ...sealV1(v1Keys.keyFor(peer!.pub, peer!.pubBytes), plaintext) };
    } catch (error) {
      const reason =
        error instanceof ProtocolError && error.code === ErrorCode.NO_BUNDLE
          ? `${message.to} is not online and has no registered identity here`
          : `cannot encrypt for ${message.to}: ${(error as Error).message}`;
      this.#showWhenSealed.delete(message.id);
      delivery.report(message, 'failed', reason);
      return;
    }
    if (this.#showWhenSealed.delete(message.id))
      this.#emit(message, ratchet ? Protection.ratchet : Protection.legacy, peer);
    if (
      !link.send(
        relayFrame(message.to, envelope, message.id, senderFieldFor(link.version, user.name)),
      )
    ) {
      delivery.report(message, 'failed', 'connection lost');
      return;
    }
    delivery.sent(message);
  }

  async #sealRatchet(
    to: string,
    peer: Peer | undefined,
    plaintext: string,
  ): Promise<Record<string, string>> {
    const { peers } = this.#options;
    const known = peers.known(to);
    const trusted = peer?.idk ?? known?.identityKey;
    // First contact with someone offline: an invite's fingerprint must match the bundle.
    const refuse = (identity: string) =>
      known?.expected !== undefined && fingerprintOfKey(identity) !== known.expected
        ? `the server offered ${to} with identity ${fingerprintOfKey(identity)}, not the invited ${known.expected}`
        : undefined;
    // Seen with rotating signed prekeys (or listed with them now): never the hello key
    // instead; seen with pq (or listed with it): never a session without PQXDH.
    const sealed = await this.#options.ratchet()!.seal(to, plaintext, {
      ...(trusted ? { trusted } : {}),
      refuse,
      randomNonce: opensRandomNonce(peer?.caps),
      requireSignedPrekey: this.#requires(to, peer, SecurityFeature.spk),
      requirePq: this.#requires(to, peer, SecurityFeature.pq),
    });
    // First contact with an offline user: remember the identity the server vouched for.
    if (!trusted) peers.rememberIdentity(to, sealed.identity);
    return { ...sealed.envelope };
  }

  #emit(message: Outgoing, protection: MessageEvent['protection'], peer?: Peer): void {
    this.#options.sink.event({
      kind: 'message',
      direction: 'out',
      from: this.#options.user.name,
      to: peer?.name ?? message.to,
      text: message.text,
      protection,
      id: message.id,
      ...(message.action ? { action: true } : {}),
    });
  }
}
