import {
  ALG_RESET,
  ALG_V1,
  ALG_V2,
  ALG_V2_RN,
  decodePairwiseContent,
  ErrorCode,
  type FileContent,
  openV1,
  type PairwiseContent,
  type RelayDelivery,
  type SenderKeyContent,
  toBase64,
} from '../../protocol/index.js';
import type { RatchetPeers } from '../e2ee/ratchet-peers.js';
import type { V1KeyCache } from '../e2ee/v1-keys.js';
import { type EventSink, type MessageEvent, Protection } from '../events.js';
import type { LocalUser } from '../identity/local-user.js';
import type { PeerBook, PeerStatus } from '../trust/peer-book.js';
import { offeredFeatures, SecurityFeature } from '../trust/trust-floor.js';
import { fingerprintOfKey } from '../trust/trust-store.js';
import {
  standingOf,
  type WithheldMessage,
  type WithheldMessages,
  withStatus,
} from '../trust/withheld.js';
import { PendingDecryptions, SeenEnvelopes } from './incoming-queues.js';
import { relayFrame } from './relay-frame.js';

/** Where room sender keys go that arrive over a pairwise session (the rooms). */
export interface SenderKeySink {
  /** A sender key from `from`, authenticated by `identity`, whose standing is `status`. */
  onSenderKey(from: string, identity: string, content: SenderKeyContent, status: PeerStatus): void;
}

export interface IncomingOptions {
  user: LocalUser;
  /** Writes a frame to the server (mailbox acknowledgements, reset notices). */
  send(frame: object): boolean;
  /** The `from` our relays carry: undefined for a server that sets it (see relayFrame). */
  senderField(): string | undefined;
  peers: PeerBook;
  /** Forward-secret sessions, when we have an identity and the server offers them. */
  ratchet: () => Pick<RatchetPeers, 'open' | 'resetNotice' | 'acceptReset'> | undefined;
  v1Keys: V1KeyCache;
  /** Messages from senders in question, kept until `/trust`. */
  withheld: WithheldMessages;
  senderKeys: SenderKeySink;
  /** A peer offers us a file (its descriptor arrived over the ratchet). */
  onFileOffer?: (from: string, content: FileContent) => void;
  /** Asks the server for the directory (to learn a sender's new key). */
  refreshDirectory(): void;
  sink: EventSink;
  now: () => number;
}

/**
 * Incoming direct messages: v1 envelopes opened with the sender's directory key (retried
 * once after a directory refresh) and shown once; v2 ratchet messages opened with the
 * sessions of the identities we trust for the sender (nothing unauthenticated changes any
 * state; a message for a session we do not have is answered with a reset bound to that
 * session); messages from senders whose standing is `changed` withheld until `/trust`;
 * room sender keys handed to the rooms; mailbox deliveries acknowledged.
 */
export class IncomingMessages {
  #options: IncomingOptions;
  #pending = new PendingDecryptions();
  #seen = new SeenEnvelopes();
  #fetchedUpto = 0;

  constructor(options: IncomingOptions) {
    this.#options = options;
  }

  handle(relay: RelayDelivery): void {
    // Every stored message is acknowledged, duplicates too: the server pages the mailbox and
    // sends the next page only after `fetched` covered this one.
    if (relay.seq !== undefined) this.#mailboxAck(relay.seq);
    switch (relay.alg) {
      case ALG_V1:
        if (!this.#openV1(relay, false)) {
          const evicted = this.#pending.hold(relay, this.#options.peers.version);
          if (evicted) this.#undecryptable(evicted, 'too many messages waiting for keys');
          this.#options.refreshDirectory();
        }
        break;
      case ALG_V2:
      case ALG_V2_RN:
        this.#openV2(relay);
        break;
      case ALG_RESET:
        this.#reset(relay);
        break;
      default:
        this.#undecryptable(relay, `unsupported algorithm "${relay.alg}"`, ErrorCode.BAD_FIELD);
    }
  }

  /** The directory changed: retry v1 messages that were waiting for a sender's key. */
  retryPending(): void {
    if (this.#pending.size === 0) return;
    for (const relay of this.#pending.due(this.#options.peers.version)) this.#openV1(relay, true);
  }

  /** Acknowledges stored messages once per turn (`fetched` up to the highest seq seen). */
  #mailboxAck(seq: number): void {
    const scheduled = this.#fetchedUpto > 0;
    this.#fetchedUpto = Math.max(this.#fetchedUpto, seq);
    if (scheduled) return;
    setImmediate(() => {
      const upto = this.#fetchedUpto;
      this.#fetchedUpto = 0;
      if (upto > 0) this.#options.send({ type: 'fetched', upto });
    });
  }

  /** Decrypts and shows; returns false when a directory refresh might help. */
  #openV1(relay: RelayDelivery, final: boolean): boolean {
    const { user, peers, v1Keys } = this.#options;
    const self = user.is(relay.from);
    const peer = self ? undefined : peers.get(relay.from);
    const pub = self ? toBase64(user.keyPair.publicKey) : peer?.pub;
    const pubBytes = self ? user.keyPair.publicKey : peer?.pubBytes;
    if (pub === undefined || pubBytes === undefined) {
      if (final) this.#undecryptable(relay, `no key known for ${relay.from}`);
      return final;
    }
    let text: string;
    try {
      text = openV1(v1Keys.keyFor(pub, pubBytes), relay);
    } catch (error) {
      if (final) this.#undecryptable(relay, (error as Error).message);
      return final;
    }
    if (!this.#seen.firstTime(relay.from, relay.nonce)) return true; // shown before
    if (peer) peers.observe(peer);
    const held: WithheldMessage = {
      event: this.#event(relay, text, Protection.legacy, {
        fingerprint: peer?.identityFingerprint ?? peer?.fingerprint ?? user.fingerprint,
      }),
      via: 'v1',
    };
    this.#show(held, self ? 'verified' : standingOf(held, peers));
    return true;
  }

  /** Identities a ratchet message from `from` may be authenticated by: remembered, then listed. */
  #candidates(from: string): string[] {
    const { peers } = this.#options;
    const known = peers.known(from)?.identityKey;
    const peer = peers.get(from);
    const listed = peer?.idk && peers.signatureValid(peer) ? peer.idk : undefined;
    return [...new Set([known, listed].filter((k): k is string => k !== undefined))];
  }

  #openV2(relay: RelayDelivery): void {
    const { peers } = this.#options;
    const ratchet = this.#options.ratchet();
    if (!ratchet) {
      this.#undecryptable(
        relay,
        'a forward-secret (v2) message, but this client has no identity (--legacy) or the server offers no ratchet',
        ErrorCode.RATCHET_NO_SESSION,
      );
      return;
    }
    // A session an unverified sender opens is first-contact state (evicted first when the
    // client's limits are reached) until we answer in it.
    const firstContact = peers.known(relay.from)?.verified !== true;
    // Seen with pq (floor, or listed with it now): a new session without PQXDH is refused.
    const listed = peers.get(relay.from);
    const requirePq =
      (peers.known(relay.from)?.floor?.features.includes(SecurityFeature.pq) ?? false) ||
      (listed !== undefined && offeredFeatures(peers.offer(listed)).includes(SecurityFeature.pq));
    const opened = ratchet.open(relay, this.#candidates(relay.from), { firstContact, requirePq });
    if (!opened.ok) {
      if (opened.duplicate) return; // shown once already
      let reason = opened.reason;
      if (opened.reset) {
        const notice = ratchet.resetNotice(
          opened.reset.peerIdentity,
          opened.reset.ratchetKey,
          this.#options.now(),
        );
        if (notice) {
          this.#options.send(
            relayFrame(relay.from, { ...notice }, undefined, this.#options.senderField()),
          );
          reason += `; ${relay.from} was asked to start a new session (they may need to resend)`;
        }
      }
      this.#undecryptable(relay, reason, opened.code);
      return;
    }
    if (peers.identityStatus(relay.from, opened.identity) === 'new')
      peers.rememberIdentity(relay.from, opened.identity);
    let content: PairwiseContent;
    try {
      content = decodePairwiseContent(opened.text);
    } catch (error) {
      this.#undecryptable(relay, (error as Error).message, ErrorCode.BAD_FIELD);
      return;
    }
    if (content.t === 'file') {
      this.#fileOffer(relay.from, opened.identity, content);
      return;
    }
    const held: WithheldMessage = {
      event: this.#event(
        relay,
        content.t === 'sk' ? '' : content.text,
        opened.pq ? Protection.pq : Protection.ratchet,
        {
          fingerprint: fingerprintOfKey(opened.identity),
          ...(content.t === 'action' ? { action: true } : {}),
          // Only for a message the server kept (seq): a live one is shown as it arrives.
          ...(content.t !== 'sk' && content.ts !== undefined && relay.seq !== undefined
            ? { sentAt: content.ts }
            : {}),
        },
      ),
      identity: opened.identity,
      via: 'ratchet',
    };
    const status = standingOf(held, peers);
    if (content.t === 'sk') {
      this.#options.senderKeys.onSenderKey(relay.from, opened.identity, content, status);
      return;
    }
    this.#show(held, status);
  }

  /** A file offer from a sender in good standing goes to the transfers; else it is refused. */
  #fileOffer(from: string, identity: string, content: FileContent): void {
    const status = this.#options.peers.identityStatus(from, identity);
    if (status === 'changed') {
      this.#options.sink.notice(
        'warning',
        `refused a file offer from ${from}: their identity changed or offers less than before (see the TRUST alert)`,
        'E_WITHHELD',
      );
      return;
    }
    this.#options.onFileOffer?.(from, content);
  }

  #reset(relay: RelayDelivery): void {
    const ratchet = this.#options.ratchet();
    const candidates = this.#candidates(relay.from);
    if (!ratchet || candidates.length === 0) return;
    const outcome = ratchet.acceptReset(relay, candidates, this.#options.now());
    if (outcome === 'accepted') {
      this.#options.sink.notice(
        'warning',
        `${relay.from} could not decrypt a recent message from you (they lost that session's keys). A new session starts with your next message: resend anything important.`,
        'E_SESSION_RESET',
      );
    } else if (outcome === 'legacy') {
      this.#options.sink.notice(
        'info',
        `ignored a session reset from ${relay.from}: their client is older and its resets name no session (they can write to you to start a new one)`,
      );
    }
  }

  /** Shows a message, or withholds it while its sender's standing is `changed`. */
  #show(message: WithheldMessage, status: PeerStatus): void {
    const { sink, withheld } = this.#options;
    if (status !== 'changed') {
      sink.emit(withStatus(message.event, status));
      return;
    }
    const from = message.event.from;
    const waiting = withheld.hold(from, message);
    sink.notice(
      'warning',
      `a message from ${from} was withheld (${waiting} waiting): ${from}'s identity changed or offers less than before (see the TRUST alert). /trust ${from} after checking shows it.`,
      'E_WITHHELD',
    );
  }

  /** The message as shown (or withheld), stamped with the time it arrived. */
  #event(
    relay: RelayDelivery,
    text: string,
    protection: Protection,
    extra: { fingerprint?: string; action?: boolean; sentAt?: number },
  ): MessageEvent {
    const action = extra.action ?? text.startsWith('/me ');
    const body = extra.action || !action ? text : text.slice(4);
    return {
      kind: 'message',
      ts: this.#options.now(),
      direction: 'in',
      from: this.#options.peers.get(relay.from)?.name ?? relay.from,
      to: this.#options.user.name,
      text: body,
      protection,
      ...(extra.fingerprint ? { fingerprint: extra.fingerprint } : {}),
      ...(action ? { action: true } : {}),
      ...(relay.id === undefined ? {} : { id: relay.id }),
      ...(extra.sentAt === undefined ? {} : { sentAt: extra.sentAt }),
    };
  }

  #undecryptable(
    relay: RelayDelivery,
    reason: string,
    code: string = ErrorCode.DECRYPT_FAILED,
  ): void {
    this.#options.sink.event({
      kind: 'undecryptable',
      from: relay.from,
      code,
      reason,
      ...(relay.id === undefined ? {} : { id: relay.id }),
    });
  }
}
