import {
  type FileContent,
  nameKey,
  receiveSenderKey,
  type SenderKeyContent,
  senderKeyOf,
} from '../../protocol/index.js';
import { type EventSink, Protection } from '../events.js';
import type { PeerBook, PeerStatus } from '../trust/peer-book.js';
import { fingerprintOfKey } from '../trust/trust-store.js';
import { openRoomFrame } from './room-envelopes.js';
import type { RoomLimits } from './room-limits.js';
import type { JoinedRoom, RoomMessage } from './room-state.js';

export interface RoomInboxOptions {
  peers: PeerBook;
  /** A member offers a file to the room (its descriptor arrived under their sender key). */
  onFileOffer?: (from: string, content: FileContent, room: string) => void;
  limits: RoomLimits;
  sink: EventSink;
  now: () => number;
}

/**
 * Members' messages to a room: opened with the chain each member handed us over the
 * pairwise ratchet (accepted only from a member we show, under the identity we show, in
 * good standing), signature first, replays refused by the chain. A message whose key has
 * not come yet waits for it (bounded); a sender whose key changed since is not shown.
 */
export class RoomInbox {
  #options: RoomInboxOptions;

  constructor(options: RoomInboxOptions) {
    this.#options = options;
  }

  /** A member's sender key, from `from` authenticated by `identity` whose standing is `status`. */
  onSenderKey(
    room: JoinedRoom,
    from: string,
    identity: string,
    content: SenderKeyContent,
    status: PeerStatus,
  ): void {
    const member = room.members.get(nameKey(from));
    if (!member || member.info.idk !== identity) return; // not a member we know: ignore
    if (status === 'changed' || status === 'invalid') {
      this.#options.sink.notice(
        'warning',
        `${room.name}: refused a room key from ${from}: their identity changed or offers less than before (see the TRUST alert). /trust ${from} after checking.`,
        'E_KEY_CHANGED',
      );
      return;
    }
    const { limits } = this.#options;
    limits.admitChain(room, nameKey(from), `${nameKey(from)}|${content.keyId}`, {
      identity,
      key: receiveSenderKey(senderKeyOf(content)),
    });
    const waiting = room.waiting;
    room.waiting = [];
    limits.released(waiting);
    for (const message of waiting) this.onMessage(room, message);
  }

  onMessage(room: JoinedRoom, message: RoomMessage): void {
    const { peers, limits, sink } = this.#options;
    const opened = openRoomFrame(room, message, limits, this.#options.now());
    if (opened.kind === 'waiting' || opened.kind === 'ignored') return;
    const status: PeerStatus =
      opened.kind !== 'failed'
        ? peers.identityStatus(message.from, opened.chain.identity)
        : 'known';
    if (opened.kind === 'failed' || status === 'changed') {
      sink.event({
        kind: 'undecryptable',
        from: message.from,
        room: room.name,
        ...(opened.kind === 'failed'
          ? { code: opened.code, reason: opened.reason }
          : {
              code: 'E_KEY_CHANGED',
              reason: `${message.from}'s key is no longer the one you trust`,
            }),
        ...(message.id ? { id: message.id } : {}),
      });
      return;
    }
    if (opened.kind === 'file') {
      this.#options.onFileOffer?.(message.from, opened.content, room.name);
      return;
    }
    const fingerprint = fingerprintOfKey(opened.chain.identity);
    sink.event({
      kind: 'message',
      direction: 'in',
      from: message.from,
      to: room.name,
      text: opened.text,
      protection: Protection.room,
      keyStatus: status,
      ...(status === 'verified' ? { verified: true } : {}),
      ...(fingerprint ? { fingerprint } : {}),
      ...(opened.action ? { action: true } : {}),
      ...(message.id ? { id: message.id } : {}),
    });
  }
}
