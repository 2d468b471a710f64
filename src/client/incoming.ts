import type { RelayDelivery } from '../protocol/index.js';
import { ALG_V1, ALG_V2, ErrorCode, openV1, ProtocolError, toBase64 } from '../protocol/index.js';
import { type ClientCore, sameName } from './client-core.js';
import { decodeContent, type PairwiseContent } from './content.js';
import { ALG_RESET } from './e2ee/ratchet-peers.js';
import { Protection } from './events.js';
import type { PeerStatus } from './peers.js';

interface PendingIncoming {
  relay: RelayDelivery;
  /** Directory version when the message arrived. */
  version: number;
}

/**
 * Messages that could not be decrypted yet because the sender's key may be newer than our
 * directory (the sender joined or reconnected a moment ago). Each is retried once, after
 * the directory changes, then reported as undecryptable; never silently dropped.
 */
export class PendingDecryptions {
  #pending: PendingIncoming[] = [];
  #max: number;

  constructor(max = 256) {
    this.#max = max;
  }

  get size(): number {
    return this.#pending.length;
  }

  /** Holds a message; returns one evicted to make room, if any. */
  hold(relay: RelayDelivery, version: number): RelayDelivery | undefined {
    const evicted = this.#pending.length >= this.#max ? this.#pending.shift()?.relay : undefined;
    this.#pending.push({ relay, version });
    return evicted;
  }

  /** Returns the messages whose directory version is older than `version`. */
  due(version: number): RelayDelivery[] {
    const due: RelayDelivery[] = [];
    const keep: PendingIncoming[] = [];
    for (const pending of this.#pending) {
      if (pending.version === version) keep.push(pending);
      else due.push(pending.relay);
    }
    this.#pending = keep;
    return due;
  }
}

/**
 * Remembers the last messages seen by (sender, id), so a message the server delivers twice
 * (a mailbox redelivery after a connection dropped before `fetched`) is shown once.
 * Bounded; messages without an id are always new.
 */
export class SeenMessages {
  #seen = new Set<string>();
  #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  firstTime(relay: Pick<RelayDelivery, 'from' | 'id'>): boolean {
    if (relay.id === undefined) return true;
    const key = `${relay.from.toLowerCase()}\u0000${relay.id}`;
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > this.#max) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}

/**
 * Incoming direct messages: duplicates dropped (mailbox redeliveries, ratchet replays),
 * v1 envelopes opened with the sender's directory key (retried once after a directory
 * refresh), v2 ratchet messages opened with the sender's sessions (a lost session is
 * answered with a signed reset so the sender starts over), mailbox deliveries acknowledged.
 */
export class IncomingMessages {
  #core: ClientCore;
  #pending = new PendingDecryptions();
  #seen = new SeenMessages();
  #fetchedUpto = 0;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  handle(relay: RelayDelivery): void {
    // A stored message seen before is still acknowledged: the server pages the mailbox and
    // sends the next page only after `fetched` covered this one.
    if (relay.seq !== undefined) this.#mailboxAck(relay.seq);
    if (!this.#seen.firstTime(relay)) return;
    switch (relay.alg) {
      case ALG_V1:
        if (!this.#openV1(relay, false)) {
          const evicted = this.#pending.hold(relay, this.#core.peers.version);
          if (evicted) this.#undecryptable(evicted, 'too many messages waiting for keys');
          this.#core.refreshDirectory();
        }
        break;
      case ALG_V2:
        this.#openV2(relay);
        break;
      case ALG_RESET:
        this.#reset(relay);
        break;
      default:
        this.#core.notice(
          'warning',
          `message from ${relay.from} uses an unsupported algorithm "${relay.alg}"`,
        );
    }
  }

  /** The directory changed: retry v1 messages that were waiting for a sender's key. */
  retryPending(): void {
    if (this.#pending.size === 0) return;
    for (const relay of this.#pending.due(this.#core.peers.version)) this.#openV1(relay, true);
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

  /** Decrypts and emits; returns false when a directory refresh might help. */
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
    const status: PeerStatus = peer ? core.peers.remember(peer) : 'verified';
    this.#emit(
      relay,
      text,
      Protection.legacy,
      status,
      peer?.identityFingerprint ?? peer?.fingerprint ?? core.ownFingerprint,
    );
    return true;
  }

  #expectedIdentity(from: string): string | undefined {
    const core = this.#core;
    return core.peers.get(from)?.idk ?? core.trust?.get(core.serverPin, from)?.identityKey;
  }

  #openV2(relay: RelayDelivery): void {
    const core = this.#core;
    if (!core.ratchet) {
      core.notice(
        'warning',
        `${relay.from} sent a forward-secret (v2) message but this client has no identity (--legacy)`,
      );
      return;
    }
    const expected = this.#expectedIdentity(relay.from);
    let opened: { text: string; identity: string };
    try {
      opened = core.ratchet.open(relay, expected);
    } catch (error) {
      const code = error instanceof ProtocolError ? error.code : undefined;
      if (code === ErrorCode.RATCHET_DUPLICATE) return; // shown once already
      if (code === ErrorCode.RATCHET_NO_SESSION || code === ErrorCode.RATCHET_UNKNOWN_PREKEY) {
        if (expected)
          core.send({
            type: 'relay',
            to: relay.from,
            from: core.name,
            ...core.ratchet.resetNotice(expected),
          });
        core.notice(
          'warning',
          `could not decrypt a message from ${relay.from}: this client lost that conversation's keys. ${relay.from} was asked to start a new session; they may need to resend.`,
          code,
        );
        return;
      }
      this.#undecryptable(relay, (error as Error).message, code);
      return;
    }
    let status: PeerStatus = 'known';
    if (core.trust) {
      status = core.trust.assess(core.serverPin, relay.from, opened.identity);
      if (status === 'new')
        status = core.trust.rememberIfNew(core.serverPin, relay.from, opened.identity);
    }
    let content: PairwiseContent;
    try {
      content = decodeContent(opened.text);
    } catch (error) {
      this.#undecryptable(relay, (error as Error).message, ErrorCode.BAD_FIELD);
      return;
    }
    if (content.t === 'sk') {
      core.onSenderKey(relay.from, opened.identity, content);
      return;
    }
    const peer = core.peers.get(relay.from);
    this.#emit(
      relay,
      content.t === 'action' ? `/me ${content.text}` : content.text,
      Protection.ratchet,
      status,
      peer?.identityFingerprint,
    );
  }

  #reset(relay: RelayDelivery): void {
    const core = this.#core;
    const expected = this.#expectedIdentity(relay.from);
    if (!core.ratchet || !expected) return;
    if (core.ratchet.acceptReset(relay, expected)) {
      core.notice(
        'warning',
        `${relay.from} could not decrypt a recent message from you (they lost the session keys). A new session starts with your next message: resend anything important.`,
        'E_SESSION_RESET',
      );
    }
  }

  #emit(
    relay: RelayDelivery,
    text: string,
    protection: Protection,
    status: PeerStatus,
    fingerprint: string | undefined,
  ): void {
    const action = text.startsWith('/me ');
    this.#core.emitEvent({
      kind: 'message',
      ts: this.#core.now(),
      direction: 'in',
      from: this.#core.peers.get(relay.from)?.name ?? relay.from,
      to: this.#core.name,
      text: action ? text.slice(4) : text,
      protection,
      ...(fingerprint ? { fingerprint } : {}),
      ...(status === 'verified' ? { verified: true } : {}),
      keyStatus: status,
      ...(action ? { action: true } : {}),
      ...(relay.id === undefined ? {} : { id: relay.id }),
    });
  }

  #undecryptable(
    relay: RelayDelivery,
    reason: string,
    code: string = ErrorCode.DECRYPT_FAILED,
  ): void {
    this.#core.notice(
      'warning',
      `could not decrypt a message from ${relay.from} (${reason}); it may have been tampered with`,
      code,
    );
  }
}
