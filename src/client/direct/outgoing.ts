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
import { type ClientCore, sameName } from '../client-core.js';
import { opensRandomNonce } from '../e2ee/bundle-check.js';
import { type MessageEvent, Protection } from '../events.js';
import type { Peer } from '../trust/peer-book.js';
import { offeredFeatures, SecurityFeature } from '../trust/trust-floor.js';
import { fingerprintOfKey } from '../trust/trust-store.js';
import { trustAlert } from '../trust/trust-text.js';
import type { DeliveryTracker, Outgoing } from './delivery.js';

/** Result of a send request, for the UI's immediate feedback. */
export type SendOutcome = { ok: true; id: string } | { ok: false; reason: string };

/**
 * Outgoing direct messages: chooses the envelope per peer (the ratchet for v2 peers that
 * offer it, the v1 envelope for legacy peers, marked "no forward secrecy"), keeps messages
 * to one peer in order (session setup is asynchronous), and reports every message's fate
 * through the delivery tracker: never silently lost.
 */
export class OutgoingMessages {
  #core: ClientCore;
  #delivery: DeliveryTracker;
  #chains = new Map<string, Promise<void>>();
  #nextId = 0;
  #idPrefix: string;

  constructor(core: ClientCore, delivery: DeliveryTracker, idPrefix: string) {
    this.#core = core;
    this.#delivery = delivery;
    this.#idPrefix = idPrefix;
  }

  /** Whether messages to `peer` go through the ratchet. */
  usesRatchet(peer: Peer | undefined): boolean {
    const core = this.#core;
    if (!core.ratchet) return false;
    if (!peer) return true; // offline: only registered v2 identities can be reached
    // Notes to self: a ratchet with yourself would be two sessions under one name; the
    // static envelope with your own key is what the seed protocol does (no forward secrecy).
    if (sameName(peer.name, core.name)) return false;
    return peer.v >= 2 && peer.idk !== undefined && (peer.caps?.includes('ratchet') ?? false);
  }

  send(to: string, text: string, action: boolean): SendOutcome {
    if (!isValidName(to)) return { ok: false, reason: `invalid user name "${to}"` };
    const core = this.#core;
    const message: Outgoing = {
      id: `${this.#idPrefix}-${(++this.#nextId).toString(36)}`,
      to,
      text,
      action,
    };
    if (!core.ready) {
      if (!this.#delivery.enqueue(message)) {
        return {
          ok: false,
          reason: `not connected and ${this.#delivery.maxQueued} messages are already queued`,
        };
      }
      this.#emit(message, this.#protectionFor(to));
      return { ok: true, id: message.id };
    }
    const self = sameName(to, core.name);
    const peer = self ? undefined : core.peers.get(to);
    if (!self && !peer && !this.usesRatchet(undefined))
      return { ok: false, reason: `${to} is not online (see /list)` };
    const refusal = peer ? this.#refusalFor(peer) : undefined;
    if (refusal) return { ok: false, reason: refusal };
    this.#emit(message, this.#protectionFor(to), peer);
    this.transmit(message);
    return { ok: true, id: message.id };
  }

  /** Sends a message (queued ones too, after a welcome), in order per recipient. */
  transmit(message: Outgoing): void {
    const key = nameKey(message.to);
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#transmitNow(message));
    this.#chains.set(key, next);
    void next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  /** Notes to self use the v1 envelope with our own key (never the directory's). */
  #protectionFor(to: string): MessageEvent['protection'] {
    if (sameName(to, this.#core.name)) return Protection.legacy;
    return this.usesRatchet(this.#core.peers.get(to)) ? Protection.ratchet : Protection.legacy;
  }

  /** Why nothing may be encrypted to `peer` now (its standing is changed or invalid). */
  #refusalFor(peer: Peer): string | undefined {
    const peers = this.#core.peers;
    const alert = trustAlert(
      peer,
      peers.observe(peer),
      this.#core.trust?.get(peers.server, peer.name),
    );
    return alert ? `not sent: ${alert.text}` : undefined;
  }

  async #transmitNow(message: Outgoing): Promise<void> {
    const core = this.#core;
    const self = sameName(message.to, core.name);
    const peer = self ? undefined : core.peers.get(message.to);
    const ratchet = !self && this.usesRatchet(peer);
    const plaintext = ratchet
      ? encodePairwiseContent({ t: message.action ? 'action' : 'text', text: message.text })
      : message.action
        ? `/me ${message.text}`
        : message.text;
    if (!self && !peer && !ratchet) {
      this.#delivery.report(message, 'failed', `${message.to} is not online`);
      return;
    }
    const refusal = peer ? this.#refusalFor(peer) : undefined;
    if (refusal) {
      this.#delivery.report(message, 'failed', refusal);
      return;
    }
    let envelope: Record<string, string>;
    try {
      envelope = self
        ? {
            ...sealV1(
              core.v1Keys.keyFor(toBase64(core.keyPair.publicKey), core.keyPair.publicKey),
              plaintext,
            ),
          }
        : ratchet
          ? await this.#sealRatchet(message.to, peer, plaintext)
          : { ...sealV1(core.v1Keys.keyFor(peer!.pub, peer!.pubBytes), plaintext) };
    } catch (error) {
      const reason =
        error instanceof ProtocolError && error.code === ErrorCode.NO_BUNDLE
          ? `${message.to} is not online and has no registered identity here`
          : `cannot encrypt for ${message.to}: ${(error as Error).message}`;
      this.#delivery.report(message, 'failed', reason);
      return;
    }
    if (
      !core.send({ type: 'relay', to: message.to, from: core.name, ...envelope, id: message.id })
    ) {
      this.#delivery.report(message, 'failed', 'connection lost');
      return;
    }
    this.#delivery.sent(message);
  }

  /**
   * Sends control content (a room sender key) over the pairwise ratchet, in order with the
   * user's messages to that peer; nothing is shown. Resolves false when it could not be sent.
   */
  sendControl(to: string, content: PairwiseContent): Promise<boolean> {
    const key = nameKey(to);
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      const peer = this.#core.peers.get(to);
      if (!this.usesRatchet(peer) || (peer && this.#refusalFor(peer))) return false;
      try {
        const envelope = await this.#sealRatchet(to, peer, encodePairwiseContent(content));
        return this.#core.send({ type: 'relay', to, from: this.#core.name, ...envelope });
      } catch {
        return false;
      }
    });
    const done = next.then(() => undefined);
    this.#chains.set(key, done);
    void done.finally(() => {
      if (this.#chains.get(key) === done) this.#chains.delete(key);
    });
    return next;
  }

  async #sealRatchet(
    to: string,
    peer: Peer | undefined,
    plaintext: string,
  ): Promise<Record<string, string>> {
    const core = this.#core;
    const known = core.trust?.get(core.serverPin, to);
    const trusted = peer?.idk ?? known?.identityKey;
    // First contact with someone offline: an invite's fingerprint must match the bundle.
    const refuse = (identity: string) =>
      known?.expected !== undefined && fingerprintOfKey(identity) !== known.expected
        ? `the server offered ${to} with identity ${fingerprintOfKey(identity)}, not the invited ${known.expected}`
        : undefined;
    // Seen with rotating signed prekeys (or listed with them now): never the hello key instead.
    const requireSignedPrekey =
      (known?.floor?.features.includes(SecurityFeature.spk) ?? false) ||
      (peer !== undefined && offeredFeatures(core.peers.offer(peer)).includes(SecurityFeature.spk));
    const sealed = await core.ratchet!.seal(to, plaintext, {
      ...(trusted ? { trusted } : {}),
      refuse,
      randomNonce: opensRandomNonce(peer?.caps),
      requireSignedPrekey,
    });
    if (!trusted && core.trust) {
      // First contact with an offline user: remember the identity the server vouched for.
      core.trust.rememberIfNew(core.serverPin, to, sealed.identity);
    }
    return { ...sealed.envelope };
  }

  #emit(message: Outgoing, protection: MessageEvent['protection'], peer?: Peer): void {
    const core = this.#core;
    core.emitEvent({
      kind: 'message',
      ts: core.now(),
      direction: 'out',
      from: core.name,
      to: peer?.name ?? message.to,
      text: message.text,
      protection,
      id: message.id,
      ...(message.action ? { action: true } : {}),
    });
  }
}
