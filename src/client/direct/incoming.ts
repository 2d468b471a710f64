import type { RelayDelivery } from '../../protocol/index.js';
import {
  ALG_RESET,
  ALG_V1,
  ALG_V2,
  ALG_V2_RN,
  decodePairwiseContent,
  ErrorCode,
  openV1,
  type PairwiseContent,
  toBase64,
} from '../../protocol/index.js';
import { type ClientCore, sameName } from '../client-core.js';
import { type MessageEvent, Protection } from '../events.js';
import type { PeerStatus } from '../trust/peer-book.js';
import { fingerprintOfKey } from '../trust/trust-store.js';
import { type WithheldMessage, WithheldMessages } from '../trust/withheld.js';
import { PendingDecryptions, SeenEnvelopes } from './incoming-queues.js';

export { PendingDecryptions } from './incoming-queues.js';

/**
 * Incoming direct messages: v1 envelopes opened with the sender's directory key (retried
 * once after a directory refresh) and shown once; v2 ratchet messages opened with the
 * sessions of the identities we trust for the sender (nothing unauthenticated changes any
 * state; a message for a session we do not have is answered with a reset bound to that
 * session); messages from senders whose standing is `changed` withheld until `/trust`;
 * mailbox deliveries acknowledged.
 */
export class IncomingMessages {
  #core: ClientCore;
  #pending = new PendingDecryptions();
  #seen = new SeenEnvelopes();
  #withheld = new WithheldMessages();
  #fetchedUpto = 0;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  handle(relay: RelayDelivery): void {
    // Every stored message is acknowledged, duplicates too: the server pages the mailbox and
    // sends the next page only after `fetched` covered this one.
    if (relay.seq !== undefined) this.#mailboxAck(relay.seq);
    switch (relay.alg) {
      case ALG_V1:
        if (!this.#openV1(relay, false)) {
          const evicted = this.#pending.hold(relay, this.#core.peers.version);
          if (evicted) this.#undecryptable(evicted, 'too many messages waiting for keys');
          this.#core.refreshDirectory();
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
    for (const relay of this.#pending.due(this.#core.peers.version)) this.#openV1(relay, true);
  }

  /** After a trust decision: shows withheld messages whose sender is now in good standing. */
  releaseWithheld(): number {
    let shown = 0;
    for (const sender of this.#withheld.senders()) {
      for (const held of this.#withheld.take(sender, (m) => this.#standing(m) !== 'changed')) {
        this.#core.emitEvent(withStatus(held.event, this.#standing(held)));
        shown++;
      }
    }
    return shown;
  }

  /** Acknowledges stored messages once per turn (`fetched` up to the highest seq seen). */
  #mailboxAck(seq: number): void {
    const scheduled = this.#fetchedUpto > 0;
    this.#fetchedUpto = Math.max(this.#fetchedUpto, seq);
    if (scheduled) return;
    setImmediate(() => {
      const upto = this.#fetchedUpto;
      this.#fetchedUpto = 0;
      if (upto > 0) this.#core.send({ type: 'fetched', upto });
    });
  }

  /** Decrypts and shows; returns false when a directory refresh might help. */
  #openV1(relay: RelayDelivery, final: boolean): boolean {
    const core = this.#core;
    const self = sameName(relay.from, core.name);
    const peer = self ? undefined : core.peers.get(relay.from);
    const pub = self ? toBase64(core.keyPair.publicKey) : peer?.pub;
    const pubBytes = self ? core.keyPair.publicKey : peer?.pubBytes;
    if (pub === undefined || pubBytes === undefined) {
      if (final) this.#undecryptable(relay, `no key known for ${relay.from}`);
      return final;
    }
    let text: string;
    try {
      text = openV1(core.v1Keys.keyFor(pub, pubBytes), relay);
    } catch (error) {
      if (final) this.#undecryptable(relay, (error as Error).message);
      return final;
    }
    if (!this.#seen.firstTime(relay.from, relay.nonce)) return true; // shown before
    if (peer) core.peers.observe(peer);
    const held: WithheldMessage = {
      event: this.#event(relay, text, Protection.legacy, {
        fingerprint: peer?.identityFingerprint ?? peer?.fingerprint ?? core.ownFingerprint,
      }),
      via: 'v1',
    };
    this.#show(held, self ? 'verified' : this.#standing(held));
    return true;
  }

  /** Identities a ratchet message from `from` may be authenticated by: remembered, then listed. */
  #candidates(from: string): string[] {
    const core = this.#core;
    const known = core.trust?.get(core.serverPin, from)?.identityKey;
    const peer = core.peers.get(from);
    const listed = peer?.idk && core.peers.signatureValid(peer) ? peer.idk : undefined;
    return [...new Set([known, listed].filter((k): k is string => k !== undefined))];
  }

  #openV2(relay: RelayDelivery): void {
    const core = this.#core;
    const ratchet = core.ratchet;
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
    const firstContact = core.trust?.get(core.serverPin, relay.from)?.verified !== true;
    const opened = ratchet.open(relay, this.#candidates(relay.from), { firstContact });
    if (!opened.ok) {
      if (opened.duplicate) return; // shown once already
      let reason = opened.reason;
      if (opened.reset) {
        const notice = ratchet.resetNotice(
          opened.reset.peerIdentity,
          opened.reset.ratchetKey,
          core.now(),
        );
        if (notice) {
          core.send({ type: 'relay', to: relay.from, from: core.name, ...notice });
          reason += `; ${relay.from} was asked to start a new session (they may need to resend)`;
        }
      }
      this.#undecryptable(relay, reason, opened.code);
      return;
    }
    if (core.trust && core.trust.assess(core.serverPin, relay.from, opened.identity) === 'new')
      core.trust.rememberIfNew(core.serverPin, relay.from, opened.identity);
    let content: PairwiseContent;
    try {
      content = decodePairwiseContent(opened.text);
    } catch (error) {
      this.#undecryptable(relay, (error as Error).message, ErrorCode.BAD_FIELD);
      return;
    }
    const held: WithheldMessage = {
      event: this.#event(relay, content.t === 'sk' ? '' : content.text, Protection.ratchet, {
        fingerprint: fingerprintOfKey(opened.identity),
        ...(content.t === 'action' ? { action: true } : {}),
      }),
      identity: opened.identity,
      via: 'ratchet',
    };
    const status = this.#standing(held);
    if (content.t === 'sk') {
      core.onSenderKey(relay.from, opened.identity, content, status);
      return;
    }
    this.#show(held, status);
  }

  #reset(relay: RelayDelivery): void {
    const core = this.#core;
    const candidates = this.#candidates(relay.from);
    if (!core.ratchet || candidates.length === 0) return;
    const outcome = core.ratchet.acceptReset(relay, candidates, core.now());
    if (outcome === 'accepted') {
      core.notice(
        'warning',
        `${relay.from} could not decrypt a recent message from you (they lost that session's keys). A new session starts with your next message: resend anything important.`,
        'E_SESSION_RESET',
      );
    } else if (outcome === 'legacy') {
      core.notice(
        'info',
        `ignored a session reset from ${relay.from}: their client is older and its resets name no session (they can write to you to start a new one)`,
      );
    }
  }

  /** The sender's standing for a message, against what we trust now. */
  #standing(message: WithheldMessage): PeerStatus {
    const core = this.#core;
    const from = message.event.from;
    if (message.via === 'ratchet') {
      return core.trust ? core.trust.assess(core.serverPin, from, message.identity!) : 'known';
    }
    const peer = core.peers.get(from);
    return peer ? core.peers.assess(peer, 'v1').status : 'changed';
  }

  /** Shows a message, or withholds it while its sender's standing is `changed`. */
  #show(message: WithheldMessage, status: PeerStatus): void {
    const core = this.#core;
    if (status !== 'changed') {
      core.emitEvent(withStatus(message.event, status));
      return;
    }
    const from = message.event.from;
    const waiting = this.#withheld.hold(from, message);
    core.notice(
      'warning',
      `a message from ${from} was withheld (${waiting} waiting): ${from}'s identity changed or offers less than before (see the TRUST alert). /trust ${from} after checking shows it.`,
      'E_WITHHELD',
    );
  }

  #event(
    relay: RelayDelivery,
    text: string,
    protection: Protection,
    extra: { fingerprint?: string; action?: boolean },
  ): MessageEvent {
    const action = extra.action ?? text.startsWith('/me ');
    const body = extra.action || !action ? text : text.slice(4);
    return {
      kind: 'message',
      ts: this.#core.now(),
      direction: 'in',
      from: this.#core.peers.get(relay.from)?.name ?? relay.from,
      to: this.#core.name,
      text: body,
      protection,
      ...(extra.fingerprint ? { fingerprint: extra.fingerprint } : {}),
      ...(action ? { action: true } : {}),
      ...(relay.id === undefined ? {} : { id: relay.id }),
    };
  }

  #undecryptable(
    relay: RelayDelivery,
    reason: string,
    code: string = ErrorCode.DECRYPT_FAILED,
  ): void {
    this.#core.emitEvent({
      kind: 'undecryptable',
      ts: this.#core.now(),
      from: relay.from,
      code,
      reason,
      ...(relay.id === undefined ? {} : { id: relay.id }),
    });
  }
}

function withStatus(event: MessageEvent, status: PeerStatus): MessageEvent {
  return { ...event, ...(status === 'verified' ? { verified: true } : {}), keyStatus: status };
}
