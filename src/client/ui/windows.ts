/**
 * Terminal windows, irssi/WeeChat style: window 1 is the status window (connection
 * lines, presence when there is no lobby, whatever belongs to no conversation), then one
 * window per conversation (a user or a #room) in the order they opened. Which window a
 * line belongs to is decided here, purely; each window keeps its own scrollback.
 */
import { nameKey } from '../../protocol/index.js';
import type { ClientEvent } from '../events.js';
import { Scrollback, type ScrollbackEntry, type ScrollbackLimits } from './scrollback.js';

/** The server's public room, where everyone starts. */
export const LOBBY = '#lobby';
/** The status window's name: not a valid user or room name, so it never clashes. */
export const STATUS_WINDOW = '(status)';
/** Windows a terminal keeps at most (the status window included). */
export const MAX_WINDOWS = 99;

/** What routing needs to know of the windows (keys are name keys). */
export interface WindowView {
  /** The active window's key (STATUS_WINDOW when no conversation is selected). */
  active: string;
  /** Whether a window for this key is open. */
  isOpen(key: string): boolean;
  /** Our own name. */
  self: string;
}

const SELF_ROOM_EVENTS = new Set(['part', 'kick', 'ban']);

function unique(keys: string[]): string[] {
  return [...new Set(keys)];
}

/**
 * The windows an event's lines go to (name keys, at least one):
 * - a message: its conversation (the room, or the peer); ours also the active window, where
 *   it was typed;
 * - a room event: the room; one about us leaving it (part, kick, ban) also the active window;
 * - presence: the lobby (where everyone is) or else the status window, and the peer's own
 *   window when one is open;
 * - a connection change: the status window and the active one (the prompt shows the state
 *   too);
 * - a delivery line (a message no window holds any more): the recipient's window;
 * - an undecryptable message: its room, or the sender's window when open, else the active;
 * - everything else (command answers and errors, trust alerts, server echoes, lists): the
 *   active window, where the command was typed.
 */
export function windowsFor(event: ClientEvent, view: WindowView): string[] {
  switch (event.kind) {
    case 'message':
      // Ours: its conversation, and the window where it was typed (`/to bob …` in #lobby).
      if (event.direction === 'out') return unique([nameKey(event.to), view.active]);
      // A room line: the room's window; a direct message: the sender's.
      return [nameKey(event.to.startsWith('#') ? event.to : event.from)];
    case 'room': {
      const room = nameKey(event.room);
      const aboutUs =
        event.user !== undefined &&
        nameKey(event.user) === nameKey(view.self) &&
        SELF_ROOM_EVENTS.has(event.event);
      return aboutUs ? unique([room, view.active]) : [room];
    }
    case 'presence': {
      const home = view.isOpen(LOBBY) ? LOBBY : STATUS_WINDOW;
      const peer = nameKey(event.user);
      return unique(view.isOpen(peer) ? [home, peer] : [home]);
    }
    case 'connection':
      return unique([STATUS_WINDOW, view.active]);
    case 'delivery':
      return [nameKey(event.to)];
    case 'undecryptable': {
      if (event.room !== undefined) return [nameKey(event.room)];
      const peer = nameKey(event.from);
      return [view.isOpen(peer) ? peer : view.active];
    }
    default:
      return [view.active];
  }
}

/** Where an own message's entry lives (one entry may be kept by several windows). */
interface Located {
  windows: string[];
  entry: ScrollbackEntry;
}

/**
 * The scrollback of every window, by name key, and an index of our messages by id so a
 * delivery mark finds its line whichever windows hold it. Bounded: at most
 * MAX_WINDOWS + 1 buffers (the least recently written goes), each a bounded
 * {@link Scrollback}; the index holds only entries still in a buffer.
 */
export class WindowBuffers {
  #buffers = new Map<string, Scrollback>();
  #byId = new Map<string, Located>();
  readonly #limits: ScrollbackLimits;

  constructor(limits: ScrollbackLimits = {}) {
    this.#limits = limits;
  }

  /** The window's buffer, if it has one. */
  buffer(window: string): Scrollback | undefined {
    return this.#buffers.get(window);
  }

  /**
   * The window's buffer, created empty on first use. Past MAX_WINDOWS + 1 buffers the one
   * written least recently (never the status window's) is dropped with its history.
   */
  #bufferFor(window: string): Scrollback {
    let buffer = this.#buffers.get(window);
    if (buffer !== undefined) {
      // Most recently written last: the first in the map is the one to drop.
      this.#buffers.delete(window);
      this.#buffers.set(window, buffer);
      return buffer;
    }
    if (this.#buffers.size > MAX_WINDOWS) {
      const oldest = [...this.#buffers.keys()].find((key) => key !== STATUS_WINDOW);
      if (oldest !== undefined) {
        this.clear(oldest);
        this.#buffers.delete(oldest);
      }
    }
    buffer = new Scrollback(this.#limits);
    this.#buffers.set(window, buffer);
    return buffer;
  }

  /** Buffers held (at most MAX_WINDOWS + 1). */
  get size(): number {
    return this.#buffers.size;
  }

  /** Appends one entry to each of `windows`. */
  append(windows: readonly string[], entry: ScrollbackEntry): void {
    for (const window of windows)
      for (const dropped of this.#bufferFor(window).push(entry)) this.#forget(window, dropped);
    if (entry.id !== undefined && windows.length > 0)
      this.#byId.set(entry.id, { windows: [...windows], entry });
  }

  /**
   * Sets the delivery mark of our message `id` in whichever windows hold it. Returns
   * those windows (empty when no window holds the message any more).
   */
  mark(id: string, mark: string): readonly string[] {
    const located = this.#byId.get(id);
    if (located === undefined) return [];
    located.entry.mark = mark;
    return located.windows;
  }

  /** Messages indexed for marks (bounded by the buffers' limits). */
  get indexed(): number {
    return this.#byId.size;
  }

  /** `/clear`: empties one window. */
  clear(window: string): void {
    const buffer = this.#buffers.get(window);
    if (buffer === undefined) return;
    for (const entry of buffer.entries()) this.#forget(window, entry);
    buffer.clear();
  }

  #forget(window: string, entry: ScrollbackEntry): void {
    if (entry.id === undefined) return;
    const located = this.#byId.get(entry.id);
    if (located?.entry !== entry) return;
    located.windows = located.windows.filter((w) => w !== window);
    if (located.windows.length === 0) this.#byId.delete(entry.id);
  }
}
