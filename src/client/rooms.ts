import {
  ALG_ROOM,
  createSenderKey,
  distributionOf,
  ErrorCode,
  fromBase64,
  isValidRoom,
  nameKey,
  openRoomMessage,
  ProtocolError,
  type ReceivedSenderKey,
  type RoomMemberInfo,
  type RoomServerFrame,
  receiveSenderKey,
  roomKey,
  type SenderKey,
  sealRoomMessage,
  toBase64,
} from '../protocol/index.js';
import type { ClientCore } from './client-core.js';
import type { PairwiseContent } from './content.js';
import { type PeerSummary, Protection, type RoomEvent } from './events.js';
import type { SendOutcome } from './outgoing.js';

type SenderKeyContent = Extract<PairwiseContent, { t: 'sk' }>;
type RoomMessage = Extract<RoomServerFrame, { type: 'roommsg' }>;

interface Member {
  name: string;
  info: RoomMemberInfo;
}

interface JoinedRoom {
  name: string;
  topic: string;
  members: Map<string, Member>;
  /** Our current sending chain; replaced whenever someone leaves (they must not read on). */
  own: SenderKey;
  /** Members who already hold `own` (lazy distribution: keys go out with our next message). */
  holders: Set<string>;
  /** Other members' chains by `${member}|${keyId}`. */
  received: Map<string, ReceivedSenderKey>;
  /** Messages waiting for their sender's key (bounded), retried when a key arrives. */
  waiting: RoomMessage[];
  /** Sends in order: distribution first, then the message. */
  chain: Promise<void>;
  password?: string;
}

const MAX_WAITING = 256;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface RoomHost extends ClientCore {
  sendControl(to: string, content: PairwiseContent): Promise<boolean>;
}

/**
 * Rooms on the client: membership as the server reports it, our sender key per room
 * (sent to each member over the pairwise ratchet with our next message, rotated whenever
 * someone leaves, is kicked or banned), other members' keys, and room messages in and out.
 */
export class RoomManager {
  #host: RoomHost;
  #rooms = new Map<string, JoinedRoom>();
  #nextId = 0;

  constructor(host: RoomHost) {
    this.#host = host;
  }

  isMember(room: string): boolean {
    return this.#rooms.has(roomKey(room));
  }

  joinedRooms(): string[] {
    return [...this.#rooms.values()].map((room) => room.name);
  }

  /** Names of a room's members (completion, prompt). */
  members(room: string): string[] {
    return [...(this.#rooms.get(roomKey(room))?.members.values() ?? [])].map((m) => m.name);
  }

  join(room: string, password?: string): boolean {
    const pending = this.#rooms.get(roomKey(room));
    if (pending && password !== undefined) pending.password = password;
    this.#passwords.set(roomKey(room), password);
    this.#asked.add(roomKey(room));
    return this.#host.send({ type: 'join', room, ...(password ? { password } : {}) });
  }

  /** Rooms the user asked to join (answered even when already in: "you joined" again). */
  #asked = new Set<string>();

  #passwords = new Map<string, string | undefined>();

  part(room: string): boolean {
    this.#passwords.delete(roomKey(room));
    return this.#host.send({ type: 'part', room });
  }

  /** After a reconnect: join again every room we were in (membership is per connection). */
  rejoin(): void {
    const rooms = [...this.#rooms.values()];
    this.#rooms.clear();
    for (const room of rooms)
      this.#host.send({
        type: 'join',
        room: room.name,
        ...(room.password ? { password: room.password } : {}),
      });
  }

  /** Encrypts and sends a room message (after giving our key to members who lack it). */
  send(room: string, text: string, action: boolean): SendOutcome {
    const joined = this.#rooms.get(roomKey(room));
    if (!joined) return { ok: false, reason: `you are not in ${room} (/join ${room})` };
    if (!this.#host.ready) return { ok: false, reason: 'not connected' };
    const id = `r${(++this.#nextId).toString(36)}-${Date.now().toString(36)}`;
    this.#host.emitEvent({
      kind: 'message',
      ts: this.#host.now(),
      direction: 'out',
      from: this.#host.name,
      to: joined.name,
      text,
      protection: Protection.room,
      id,
      ...(action ? { action: true } : {}),
    });
    joined.chain = joined.chain.then(async () => {
      await this.#distribute(joined);
      if (this.#rooms.get(roomKey(room)) !== joined) return;
      const body = encoder.encode(JSON.stringify({ t: action ? 'action' : 'text', text }));
      const sealed = sealRoomMessage(joined.own, joined.name, this.#host.name, body);
      this.#host.send({
        type: 'roommsg',
        room: joined.name,
        alg: ALG_ROOM,
        header: toBase64(sealed.header),
        nonce: toBase64(sealed.nonce),
        cipher: toBase64(sealed.cipher),
        sig: toBase64(sealed.signature),
        id,
      });
    });
    return { ok: true, id };
  }

  /** Sends our current key to every member who does not hold it yet. */
  async #distribute(room: JoinedRoom): Promise<void> {
    const self = nameKey(this.#host.name);
    const missing = [...room.members.keys()].filter((m) => m !== self && !room.holders.has(m));
    if (missing.length === 0) return;
    const key = distributionOf(room.own);
    const content: SenderKeyContent = {
      t: 'sk',
      room: room.name,
      keyId: key.keyId,
      iteration: key.iteration,
      chainKey: toBase64(key.chainKey),
      signingKey: toBase64(key.signingPublicKey),
    };
    const results = await Promise.all(
      missing.map((m) => this.#host.sendControl(room.members.get(m)!.name, content)),
    );
    const failed: string[] = [];
    missing.forEach((m, i) => {
      if (results[i]) room.holders.add(m);
      else failed.push(room.members.get(m)?.name ?? m);
    });
    if (failed.length > 0) {
      this.#host.notice(
        'warning',
        `${room.name}: ${failed.join(', ')} cannot receive room keys (legacy client or no session); they will not be able to read your messages`,
        'E_ROOM_KEY',
      );
    }
  }

  /** Room frames from the server. */
  onFrame(frame: RoomServerFrame): void {
    switch (frame.type) {
      case 'joined':
        this.#onJoined(frame);
        return;
      case 'room':
        this.#onRoomEvent(frame);
        return;
      case 'roommsg':
        this.#onMessage(frame);
        return;
      case 'who':
        this.#host.emitEvent({
          kind: 'users',
          ts: this.#host.now(),
          room: frame.room,
          users: this.#summaries(frame.members),
        });
        return;
      case 'rooms':
        this.#host.emitEvent({ kind: 'rooms', ts: this.#host.now(), rooms: frame.rooms });
        if (frame.next) this.#host.notice('info', `more rooms: /rooms ${frame.next}`);
        return;
      case 'dropped':
        this.#host.notice(
          'warning',
          `${frame.messages} message${frame.messages === 1 ? '' : 's'} in ${frame.room} did not reach you while your connection was not keeping up`,
        );
        return;
      case 'motd':
        if (frame.text) this.#host.notice('info', `message of the day: ${frame.text}`);
        return;
    }
  }

  #summaries(members: ReadonlyMap<string, RoomMemberInfo>): PeerSummary[] {
    return [...members].map(([name, info]) => {
      const peer = this.#host.peers.get(name);
      const status = peer ? this.#host.peers.status(peer) : info.idk ? 'known' : 'legacy';
      return {
        name,
        fingerprint: peer?.identityFingerprint ?? peer?.fingerprint ?? '',
        status:
          status === 'verified'
            ? 'verified'
            : status === 'legacy'
              ? 'legacy'
              : status === 'changed' || status === 'invalid'
                ? 'changed'
                : 'online',
        ...(nameKey(name) === nameKey(this.#host.name) ? { self: true } : {}),
        ...(info.role ? { role: info.role } : {}),
      };
    });
  }

  #onJoined(frame: Extract<RoomServerFrame, { type: 'joined' }>): void {
    const key = roomKey(frame.room);
    const existing = this.#rooms.get(key);
    const room: JoinedRoom = existing ?? {
      name: frame.room,
      topic: frame.topic,
      members: new Map(),
      own: createSenderKey(),
      holders: new Set(),
      received: new Map(),
      waiting: [],
      chain: Promise.resolve(),
    };
    const password = this.#passwords.get(key);
    if (password !== undefined) room.password = password;
    room.topic = frame.topic;
    room.members = new Map(
      [...frame.members].map(([name, info]) => [nameKey(name), { name, info }]),
    );
    this.#rooms.set(key, room);
    // After a reconnect the server puts us back in the lobby and our own rejoin asks again:
    // the second answer only refreshes the member list.
    if (existing && !this.#asked.delete(key)) return;
    this.#asked.delete(key);
    if (frame.created)
      this.#host.notice(
        'info',
        `you created ${frame.room}${frame.password ? ' with a password' : ''}: you own it`,
      );
    this.#event({
      room: frame.room,
      event: 'joined',
      ...(frame.topic ? { text: frame.topic } : {}),
    });
    this.#host.emitEvent({
      kind: 'users',
      ts: this.#host.now(),
      room: frame.room,
      users: this.#summaries(frame.members),
    });
  }

  #onRoomEvent(frame: Extract<RoomServerFrame, { type: 'room' }>): void {
    const key = roomKey(frame.room);
    const room = this.#rooms.get(key);
    const event: Omit<RoomEvent, 'kind' | 'ts'> = {
      room: frame.room,
      event: frame.event,
      ...(frame.user ? { user: frame.user } : {}),
      ...(frame.by ? { by: frame.by } : {}),
      ...(frame.text !== undefined ? { text: frame.text } : {}),
      ...(frame.reason ? { reason: frame.reason } : {}),
    };
    if (!room) {
      this.#event(event);
      return;
    }
    const member = frame.user ? nameKey(frame.user) : undefined;
    const self = member === nameKey(this.#host.name);
    switch (frame.event) {
      case 'join':
        if (member && frame.peer) {
          room.members.set(member, { name: frame.user!, info: frame.peer });
          room.holders.delete(member);
        }
        break;
      case 'part':
      case 'kick':
      case 'ban':
        if (self) {
          this.#rooms.delete(key);
          if (frame.event !== 'part') this.#passwords.delete(key);
        } else if (member) {
          room.members.delete(member);
          for (const k of [...room.received.keys()])
            if (k.startsWith(`${member}|`)) room.received.delete(k);
          // Forward secrecy for the room: a new chain nobody who left has.
          room.own = createSenderKey();
          room.holders.clear();
        }
        break;
      case 'topic':
        if (frame.text !== undefined) room.topic = frame.text;
        break;
      case 'op':
      case 'deop': {
        const target = member ? room.members.get(member) : undefined;
        if (target) {
          const { role: _role, ...rest } = target.info;
          target.info = frame.event === 'op' ? { ...rest, role: 'op' } : rest;
        }
        break;
      }
      default:
        break;
    }
    this.#event(event);
  }

  /** A member's sender key arrived over the pairwise ratchet. */
  onSenderKey(from: string, identity: string, content: SenderKeyContent): void {
    const room = this.#rooms.get(roomKey(content.room));
    const member = room?.members.get(nameKey(from));
    if (!room || !member || member.info.idk !== identity) return; // not a member we know: ignore
    room.received.set(
      `${nameKey(from)}|${content.keyId}`,
      receiveSenderKey({
        keyId: content.keyId,
        iteration: content.iteration,
        chainKey: fromBase64(content.chainKey, 'chainKey', 32),
        signingPublicKey: fromBase64(content.signingKey, 'signingKey', 32),
      }),
    );
    const waiting = room.waiting;
    room.waiting = [];
    for (const message of waiting) this.#onMessage(message);
  }

  #onMessage(message: RoomMessage): void {
    const room = this.#rooms.get(roomKey(message.room));
    if (!room) return;
    let plain: Uint8Array;
    try {
      const header = fromBase64(message.header, 'header');
      const keyId =
        header.length === 9 ? new DataView(header.buffer, header.byteOffset).getUint32(1) : -1;
      const key = room.received.get(`${nameKey(message.from)}|${keyId}`);
      if (!key) {
        if (room.waiting.length >= MAX_WAITING) room.waiting.shift();
        room.waiting.push(message);
        return;
      }
      plain = openRoomMessage(key, room.name, message.from, {
        header,
        nonce: fromBase64(message.nonce, 'nonce', 12),
        cipher: fromBase64(message.cipher, 'cipher'),
        signature: fromBase64(message.sig, 'sig', 64),
      });
    } catch (error) {
      if (error instanceof ProtocolError && error.code === ErrorCode.RATCHET_DUPLICATE) return;
      this.#host.notice(
        'warning',
        `could not decrypt a message from ${message.from} in ${room.name}: ${(error as Error).message}`,
        error instanceof ProtocolError ? error.code : undefined,
      );
      return;
    }
    let content: { t?: unknown; text?: unknown };
    try {
      content = JSON.parse(decoder.decode(plain)) as { t?: unknown; text?: unknown };
    } catch {
      return;
    }
    if (typeof content.text !== 'string') return;
    this.#host.emitEvent({
      kind: 'message',
      ts: this.#host.now(),
      direction: 'in',
      from: message.from,
      to: room.name,
      text: content.text,
      protection: Protection.room,
      ...(content.t === 'action' ? { action: true } : {}),
      ...(message.id ? { id: message.id } : {}),
    });
  }

  #event(event: Omit<RoomEvent, 'kind' | 'ts'>): void {
    this.#host.emitEvent({ kind: 'room', ts: this.#host.now(), ...event });
  }
}

export { isValidRoom };
