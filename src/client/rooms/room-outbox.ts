import {
  distributionOf,
  type FileContent,
  nameKey,
  type RoomContent,
  type SenderKeyContent,
  senderKeyContent,
} from '../../protocol/index.js';
import { type EventSink, Protection, type SendOutcome } from '../events.js';
import type { LocalUser } from '../identity/local-user.js';
import type { ServerLink } from '../net/server-session.js';
import { sealRoomFrame } from './room-envelopes.js';
import type { JoinedRoom } from './room-state.js';

/** How our sender key reaches one member: over the pairwise ratchet, in order with our messages. */
export interface PairwiseChannel {
  /** Resolves false when it could not be sent (no session, a legacy peer, a key in question). */
  sendControl(to: string, content: SenderKeyContent): Promise<boolean>;
}

export interface RoomOutboxOptions {
  user: LocalUser;
  link: ServerLink;
  keys: PairwiseChannel;
  sink: EventSink;
  now: () => number;
  /** The room we are in under that name now (a message for a room left meanwhile is dropped). */
  joined(room: string): JoinedRoom | undefined;
}

/**
 * Our messages to rooms: each is shown at once, then sent in order per room after our
 * current sender key went to the members shown when it was typed (and only to them: nobody
 * who appears later can read it).
 */
export class RoomOutbox {
  #options: RoomOutboxOptions;
  #nextId = 0;

  constructor(options: RoomOutboxOptions) {
    this.#options = options;
  }

  send(room: JoinedRoom, text: string, action: boolean): SendOutcome {
    const { user, sink } = this.#options;
    const id = `r${(++this.#nextId).toString(36)}-${this.#options.now().toString(36)}`;
    // The members shown now: nobody who appears later gets the key for this message.
    const shown = new Set(room.members.keys());
    sink.event({
      kind: 'message',
      direction: 'out',
      from: user.name,
      to: room.name,
      text,
      protection: Protection.room,
      id,
      ...(action ? { action: true } : {}),
    });
    room.chain = room.chain.then(async () => {
      await this.#distribute(room, shown);
      if (this.#options.joined(room.name) !== room) return;
      const content: RoomContent = { t: action ? 'action' : 'text', text };
      this.#options.link.send(sealRoomFrame(room, user.name, content, id));
    });
    return { ok: true, id };
  }

  /**
   * Sends a file descriptor to the room (nothing is shown: the transfer reports itself),
   * after our key went to the members shown now. Resolves true once sent, or why not.
   */
  sendFile(room: JoinedRoom, content: FileContent): Promise<true | string> {
    const id = `r${(++this.#nextId).toString(36)}-${this.#options.now().toString(36)}`;
    const shown = new Set(room.members.keys());
    const sent = room.chain.then(async (): Promise<true | string> => {
      await this.#distribute(room, shown);
      if (this.#options.joined(room.name) !== room) return `you left ${room.name}`;
      const { user, link } = this.#options;
      return link.send(sealRoomFrame(room, user.name, content, id)) ? true : 'not connected';
    });
    room.chain = sent.then(() => undefined);
    return sent;
  }

  /** Sends our current key to every member (shown at send time) who does not hold it yet. */
  async #distribute(room: JoinedRoom, shown: ReadonlySet<string>): Promise<void> {
    const self = nameKey(this.#options.user.name);
    const missing = [...room.members.keys()].filter(
      (m) => m !== self && shown.has(m) && !room.holders.has(m),
    );
    if (missing.length === 0) return;
    const own = room.own;
    const content = senderKeyContent(room.name, distributionOf(own));
    const results = await Promise.all(
      missing.map((m) => this.#options.keys.sendControl(room.members.get(m)!.name, content)),
    );
    const failed: string[] = [];
    missing.forEach((m, i) => {
      if (results[i] && room.own === own) room.holders.add(m);
      else if (!results[i]) failed.push(room.members.get(m)?.name ?? m);
    });
    if (failed.length > 0) {
      this.#options.sink.notice(
        'warning',
        `${room.name}: ${failed.join(', ')} cannot receive room keys (legacy client, no session, or a key in question: see /list); they will not be able to read your messages`,
        'E_ROOM_KEY',
      );
    }
  }
}
