import { encodeDropped } from '../protocol/index.js';
import type { Transport } from './transport.js';

/** What the notices need of their session. */
export interface NoticeTarget {
  readonly open: boolean;
  readonly version: number;
  readonly wantsPresence: boolean;
  readonly pageOutstanding: boolean;
  reply(line: string, kind: string): boolean;
  usersLine(): string;
  deliverMailbox(): void;
}

/** Bound on rooms remembered for one session's `dropped` notices. */
const MAX_MISSED_ROOMS = 256;

/**
 * What a client missed while it was not reading, told once it reads again: room messages
 * not queued for it (`dropped`, per room, with a count), a directory that changed while
 * presence pushes were not queued (a fresh `users` answer), messages that went to its
 * mailbox meanwhile (the next page).
 */
export class SessionNotices {
  #target: NoticeTarget;
  #transport: Transport;
  #onDrained: () => void;
  #watching = false;
  /** Made on the first missed room message (most sessions never miss one). */
  #missedRooms: Map<string, number> | undefined;
  #directory = false;
  #mailbox = false;

  constructor(target: NoticeTarget, transport: Transport, onDrained: () => void) {
    this.#target = target;
    this.#transport = transport;
    this.#onDrained = onDrained;
  }

  /** Calls the session back once its queued output drained (once per wait). */
  watch(): void {
    if (this.#watching || !this.#target.open) return;
    this.#watching = true;
    this.#transport.whenDrained(() => {
      this.#watching = false;
      this.#onDrained();
    });
  }

  missedRoomMessage(room: string): void {
    this.#missedRooms ??= new Map();
    const missed = this.#missedRooms;
    const count = missed.get(room);
    if (count !== undefined || missed.size < MAX_MISSED_ROOMS) missed.set(room, (count ?? 0) + 1);
    this.watch();
  }

  directoryMissed(): void {
    this.#directory = true;
    this.watch();
  }

  mailboxWaiting(): void {
    this.#mailbox = true;
    this.watch();
  }

  /** Sends what is owed (answers the client is entitled to, never refused). */
  flush(): void {
    const target = this.#target;
    const missed = this.#missedRooms;
    this.#missedRooms = undefined;
    for (const [room, messages] of missed ?? [])
      target.reply(encodeDropped(room, messages), 'dropped');
    if (this.#directory) {
      this.#directory = false;
      if (target.version === 1 || target.wantsPresence) target.reply(target.usersLine(), 'users');
    }
    if (this.#mailbox) {
      this.#mailbox = false;
      if (!target.pageOutstanding) target.deliverMailbox();
    }
  }
}
