import { nameKey } from '../../protocol/index.js';
import type { Conversations } from '../commands/index.js';
import type { ClientEvent } from '../events.js';
import { LOBBY, MAX_WINDOWS, STATUS_WINDOW } from './windows.js';

export { LOBBY } from './windows.js';

const MAX_KNOWN_ROOMS = 1000;

export interface ConversationOptions {
  /** A plain line goes to the lobby until the user picks another conversation. */
  lobbyFirst?: boolean;
  /**
   * Lobby joins and parts are not shown: everyone is in the lobby, so the presence line
   * (`bob joined`, `bob left`) already says it (one line per join, not two).
   */
  quietLobby?: boolean;
  /** Our name: a room line naming it counts as a highlight. */
  self?: string;
  /**
   * Terminal windows: window 1 is the status window (active while no conversation is
   * selected), and `/join` always makes the room joined the active window.
   */
  windows?: boolean;
}

/**
 * The conversations of one terminal (or piped, or `--json`) session: the current target
 * (`/query`), ignored users, and unread counts per conversation. The commands change them;
 * every event from the client passes through {@link admit} on its way to the screen.
 */
export class ConversationState implements Conversations {
  #target: string | undefined;
  /** Until the user picks a conversation, the lobby becomes the target once joined. */
  #lobbyFirst: boolean;
  #quietLobby: boolean;
  /** Rooms seen (joined, or listed by /rooms), for completion. */
  #rooms = new Map<string, string>();
  #ignored = new Set<string>();
  #unread = new Map<string, number>();
  /** Unread messages that name us, by conversation. */
  #highlights = new Map<string, number>();
  /** Windows in the order they opened: what `/window N` and Alt-N pick. */
  #windows = new Map<string, string>();
  #self: string | undefined;
  #statusWindow: boolean;

  /**
   * `lobbyFirst`: a plain line goes to the public lobby until the user picks another
   * conversation (the terminal); off for `--json` and piped input (today's rule: no target).
   */
  constructor(options: ConversationOptions = {}) {
    this.#lobbyFirst = options.lobbyFirst === true;
    this.#quietLobby = options.quietLobby === true;
    this.#self = options.self;
    this.#statusWindow = options.windows === true;
    if (this.#statusWindow) this.#windows.set(STATUS_WINDOW, STATUS_WINDOW);
  }

  /**
   * The active window's key: the target's, or STATUS_WINDOW when none is selected (with
   * terminal windows; without them, undefined).
   */
  get activeWindow(): string | undefined {
    if (this.#target !== undefined) return nameKey(this.#target);
    return this.#statusWindow ? STATUS_WINDOW : undefined;
  }

  /** Whether a window is open for this conversation (name key). */
  isOpen(key: string): boolean {
    return this.#windows.has(key);
  }

  /** Makes window `number` (from 1) the active one; returns its name, undefined if none. */
  selectWindow(number: number): string | undefined {
    const name = this.windows[number - 1];
    if (name === undefined) return undefined;
    this.setTarget(name === STATUS_WINDOW ? undefined : name);
    if (name !== STATUS_WINDOW) this.markRead(name);
    return name;
  }

  /**
   * `/join`: the room joined becomes the active window on a terminal; elsewhere only
   * when nothing but the lobby was selected (what `--json` scripts rely on).
   */
  joined(room: string): void {
    const target = this.#target;
    if (this.#statusWindow || target === undefined || nameKey(target) === LOBBY)
      this.setTarget(room);
    else this.#open(room);
  }

  /** Open windows (conversations), numbered from 1 in this order. */
  get windows(): readonly string[] {
    return [...this.#windows.values()];
  }

  /** Unread messages that mention us, by conversation (name key). */
  get highlights(): ReadonlyMap<string, number> {
    return this.#highlights;
  }

  #open(conversation: string): void {
    const key = nameKey(conversation);
    if (!this.#windows.has(key) && this.#windows.size < MAX_WINDOWS)
      this.#windows.set(key, conversation);
  }

  /** Rooms seen in this session (joined, or listed by /rooms). */
  get knownRooms(): string[] {
    return [...this.#rooms.values()];
  }

  get target(): string | undefined {
    return this.#target;
  }

  /** Unread messages by conversation (name key). */
  get unread(): ReadonlyMap<string, number> {
    return this.#unread;
  }

  /** Ignored users (name keys). */
  get ignored(): ReadonlySet<string> {
    return this.#ignored;
  }

  setTarget(target: string | undefined): void {
    this.#lobbyFirst = false;
    this.#target = target;
    if (target !== undefined) this.#open(target);
  }

  markRead(conversation: string): void {
    this.#unread.delete(nameKey(conversation));
    this.#highlights.delete(nameKey(conversation));
  }

  ignore(user: string): void {
    this.#ignored.add(nameKey(user));
  }

  unignore(user: string): boolean {
    return this.#ignored.delete(nameKey(user));
  }

  /**
   * Whether an event is shown: a message from an ignored user is dropped unseen; a message
   * to a conversation other than the current one counts as unread there.
   */
  admit(event: ClientEvent): boolean {
    if (event.kind === 'rooms') for (const room of event.rooms) this.#seeRoom(room.room);
    if (
      this.#quietLobby &&
      event.kind === 'room' &&
      (event.event === 'join' || event.event === 'part') &&
      nameKey(event.room) === LOBBY
    )
      return false;
    if (event.kind === 'room' && event.event === 'joined') {
      this.#seeRoom(event.room);
      this.#open(event.room);
      if (this.#lobbyFirst && this.#target === undefined && nameKey(event.room) === LOBBY)
        this.#target = event.room;
    }
    if (event.kind !== 'message' || event.direction !== 'in') return true;
    if (this.#ignored.has(nameKey(event.from))) return false;
    const name = event.to.startsWith('#') ? event.to : event.from;
    const conversation = nameKey(name);
    this.#open(name);
    if (this.#target === undefined || nameKey(this.#target) !== conversation) {
      this.#unread.set(conversation, (this.#unread.get(conversation) ?? 0) + 1);
      // In a room, a line naming you calls for you (a direct message is yours anyway).
      if (event.to.startsWith('#') && this.#mentions(event.text))
        this.#highlights.set(conversation, (this.#highlights.get(conversation) ?? 0) + 1);
    }
    return true;
  }

  #mentions(text: string): boolean {
    if (this.#self === undefined) return false;
    const self = this.#self.toLowerCase();
    return text
      .toLowerCase()
      .split(/[^a-z0-9_.-]+/)
      .some((word) => word === self || word === `${self}:`);
  }

  #seeRoom(room: string): void {
    if (this.#rooms.size < MAX_KNOWN_ROOMS || this.#rooms.has(nameKey(room)))
      this.#rooms.set(nameKey(room), room);
  }
}
