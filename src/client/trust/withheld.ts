import { nameKey } from '../../protocol/index.js';
import type { EventSink, MessageEvent } from '../events.js';
import type { PeerBook, PeerStatus } from './peer-book.js';

/** A decrypted message held back because its sender's standing is `changed`. */
export interface WithheldMessage {
  event: MessageEvent;
  /** The identity key that authenticated it (ratchet and room messages). */
  identity?: string;
  /** How it came: a v1 envelope (checked against the directory entry) or the ratchet. */
  via: 'v1' | 'ratchet';
}

/**
 * Messages from a sender whose key changed or who offers less than before are not shown
 * as theirs until the user accepts (`/trust`); they are kept here (bounded per sender and
 * in total, oldest dropped first and counted) and shown when the sender is accepted.
 */
export class WithheldMessages {
  #held = new Map<string, WithheldMessage[]>();
  #maxPerSender: number;
  #maxSenders: number;
  #dropped = 0;

  constructor(maxPerSender = 100, maxSenders = 64) {
    this.#maxPerSender = maxPerSender;
    this.#maxSenders = maxSenders;
  }

  /** Messages dropped because the bounds were reached. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Holds a message; returns how many are now held for that sender. */
  hold(sender: string, message: WithheldMessage): number {
    const key = nameKey(sender);
    let list = this.#held.get(key);
    if (!list) {
      if (this.#held.size >= this.#maxSenders) {
        const [oldest, messages] = this.#held.entries().next().value!;
        this.#held.delete(oldest);
        this.#dropped += messages.length;
      }
      list = [];
      this.#held.set(key, list);
    }
    list.push(message);
    if (list.length > this.#maxPerSender) {
      list.shift();
      this.#dropped++;
    }
    return list.length;
  }

  /** Senders with held messages. */
  senders(): string[] {
    return [...this.#held.keys()];
  }

  /** Takes the messages for which `release` says yes; the others stay held. */
  take(sender: string, release: (message: WithheldMessage) => boolean): WithheldMessage[] {
    const key = nameKey(sender);
    const list = this.#held.get(key) ?? [];
    const out = list.filter(release);
    const kept = list.filter((m) => !out.includes(m));
    if (kept.length > 0) this.#held.set(key, kept);
    else this.#held.delete(key);
    return out;
  }
}

/** The sender's standing for a message, against what we trust now. */
export function standingOf(message: WithheldMessage, peers: PeerBook): PeerStatus {
  const from = message.event.from;
  if (message.via === 'ratchet') return peers.identityStatus(from, message.identity!);
  const peer = peers.get(from);
  return peer ? peers.assess(peer, 'v1').status : 'changed';
}

/** A message event marked with its sender's standing. */
export function withStatus(event: MessageEvent, status: PeerStatus): MessageEvent {
  return { ...event, ...(status === 'verified' ? { verified: true } : {}), keyStatus: status };
}

/**
 * After a trust decision: shows (with the time they arrived) the withheld messages whose
 * sender is in good standing now; returns how many.
 */
export function releaseWithheld(
  withheld: WithheldMessages,
  peers: PeerBook,
  sink: EventSink,
): number {
  let shown = 0;
  for (const sender of withheld.senders()) {
    for (const held of withheld.take(sender, (m) => standingOf(m, peers) !== 'changed')) {
      sink.emit(withStatus(held.event, standingOf(held, peers)));
      shown++;
    }
  }
  return shown;
}
