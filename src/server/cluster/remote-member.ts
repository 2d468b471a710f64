import type { RelayRoute } from '../../protocol/index.js';
import type { Answered, RelaySender } from '../router.js';
import type { SendResult } from '../session-output.js';

/** A user online on another node, as the online hash records it. */
export interface OnlineEntry {
  /** Node holding the connection, and the session there. */
  node: string;
  sid: string;
  name: string;
  pub: string;
  /** JSON of the v2 directory entry. */
  peer: string;
  /** Identity key (v2), empty for v1. */
  idk: string;
  /** Signature over `pub` (v2), empty for v1. */
  sig: string;
  v: number;
}

/** Sends a relay to the node holding its recipient; that node's answer goes to `answered`. */
export type Forward = <C>(
  node: string,
  from: RelaySender,
  relay: RelayRoute,
  answered: Answered<C>,
  context: C,
) => void;

/**
 * A directory entry for a user connected to another node: listed in `users`/`peers`
 * answers like a local session, never pushed to (presence reaches it through its own
 * node); relays to it are forwarded to its node.
 */
export class RemoteMember {
  readonly remote = true;
  readonly entry: OnlineEntry;
  readonly open = true;
  readonly wantsUserFrames = false;
  readonly wantsPresence = false;
  #forward: Forward;

  constructor(entry: OnlineEntry, forward: Forward) {
    this.entry = entry;
    this.#forward = forward;
  }

  get name(): string {
    return this.entry.name;
  }
  get pub(): string {
    return this.entry.pub;
  }
  get peerJson(): string {
    return this.entry.peer;
  }
  get identityKey(): string | undefined {
    return this.entry.idk || undefined;
  }
  get keySignature(): string | undefined {
    return this.entry.sig || undefined;
  }

  forward<C>(from: RelaySender, relay: RelayRoute, answered: Answered<C>, context: C): void {
    this.#forward(this.entry.node, from, relay, answered, context);
  }

  /** Nothing is pushed to a remote user from here. */
  offer(_line: string, _kind: string): SendResult {
    return 'full';
  }
  push(_line: string, _kind: string): SendResult {
    return 'full';
  }
  directoryMissed(): void {}
  mailboxWaiting(): void {}
  /** A newer connection here took the name: its node closes the old one when it hears of it. */
  replaced(): void {}
}

export function isRemote(member: unknown): member is RemoteMember {
  return member instanceof RemoteMember;
}
