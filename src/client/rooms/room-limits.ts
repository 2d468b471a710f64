import { pruneSenderKeySkipped } from '../../protocol/index.js';
import type { ClientLimits } from '../e2ee/limits.js';
import type { JoinedRoom, ReceivedChain, RoomMessage } from './room-state.js';

/** Approximate bytes a waiting room message holds (its Base64 fields). */
function messageBytes(message: RoomMessage): number {
  return message.header.length + message.nonce.length + message.cipher.length + message.sig.length;
}

/**
 * What room members can make a client keep, bounded for all rooms together: sender keys
 * per member and room (a member rotates on departures; more is an attack) and in all, their
 * skipped message keys in all and by age, and bytes of messages waiting for a key. The least
 * recently used chains lose their keys first.
 */
export class RoomLimits {
  #limits: ClientLimits;
  #now: () => number;
  /** Chains in least recently used order: `room|member|keyId` → where they live. */
  #chains = new Map<string, { room: JoinedRoom; key: string }>();
  #waitingBytes = 0;

  constructor(limits: ClientLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Stores a member's new chain, dropping that member's oldest ones beyond the cap, and the oldest overall. */
  admitChain(room: JoinedRoom, member: string, key: string, chain: ReceivedChain): void {
    const own = [...room.received.keys()].filter((k) => k.startsWith(`${member}|`) && k !== key);
    for (const old of own.slice(0, Math.max(0, own.length + 1 - this.#limits.senderKeysPerMember)))
      this.#drop(room, old);
    room.received.set(key, chain);
    this.touch(room, key);
    // Chains forgotten elsewhere (a member left: room-state.ts) leave the order here.
    for (const [id, entry] of this.#chains)
      if (!entry.room.received.has(entry.key)) this.#chains.delete(id);
    for (const [id, entry] of this.#chains) {
      if (this.#chains.size <= this.#limits.senderKeys) break;
      this.#drop(entry.room, entry.key, id);
    }
  }

  /** A chain was used: it moves to the most recently used end. */
  touch(room: JoinedRoom, key: string): void {
    const id = `${room.name.toLowerCase()}|${key}`;
    this.#chains.delete(id);
    this.#chains.set(id, { room, key });
  }

  /** After a message was opened: skipped keys past their age go, then the least recently used ones beyond the cap. */
  afterOpen(chain: ReceivedChain): void {
    const notBefore = this.#now() - this.#limits.skippedKeyMaxAgeMs;
    pruneSenderKeySkipped(chain.key, notBefore);
    let excess = this.skippedKeys - this.#limits.roomSkippedKeys;
    for (const { room, key } of this.#chains.values()) {
      if (excess <= 0) break;
      const held = room.received.get(key);
      if (!held) continue;
      excess -= pruneSenderKeySkipped(
        held.key,
        notBefore,
        Math.max(0, held.key.skipped.size - excess),
      );
    }
  }

  /** Hourly: skipped keys past their age go everywhere. */
  maintain(): number {
    const notBefore = this.#now() - this.#limits.skippedKeyMaxAgeMs;
    let expired = 0;
    for (const { room, key } of this.#chains.values()) {
      const held = room.received.get(key);
      if (held) expired += pruneSenderKeySkipped(held.key, notBefore);
    }
    return expired;
  }

  get skippedKeys(): number {
    let total = 0;
    for (const { room, key } of this.#chains.values())
      total += room.received.get(key)?.key.skipped.size ?? 0;
    return total;
  }

  get senderKeys(): number {
    return this.#chains.size;
  }

  /** Keeps a message until its sender's key arrives, within the per-room count and the bytes for all rooms. */
  hold(room: JoinedRoom, message: RoomMessage, perRoom: number): void {
    const bytes = messageBytes(message);
    if (bytes > this.#limits.roomWaitingBytes) return;
    room.waiting.push(message);
    this.#waitingBytes += bytes;
    while (room.waiting.length > perRoom || this.#waitingBytes > this.#limits.roomWaitingBytes) {
      const dropped = room.waiting.shift();
      if (!dropped) break;
      this.#waitingBytes -= messageBytes(dropped);
    }
  }

  /** Messages taken out of `room.waiting` (to retry, or because the room is gone). */
  released(messages: readonly RoomMessage[]): void {
    for (const message of messages) this.#waitingBytes -= messageBytes(message);
  }

  /** Forgets a chain (member left, or a limit). */
  forget(room: JoinedRoom, key: string): void {
    this.#chains.delete(`${room.name.toLowerCase()}|${key}`);
  }

  /** Forgets everything of a room we left. */
  forgetRoom(room: JoinedRoom): void {
    for (const key of room.received.keys()) this.forget(room, key);
    this.released(room.waiting);
  }

  #drop(room: JoinedRoom, key: string, id = `${room.name.toLowerCase()}|${key}`): void {
    const chain = room.received.get(key);
    if (chain) for (const skipped of chain.key.skipped.values()) skipped.key.fill(0);
    room.received.delete(key);
    this.#chains.delete(id);
  }
}
