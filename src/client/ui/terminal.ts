import { existsSync, readFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { COMMANDS, parseInput } from '../commands/index.js';
import type { ClientEvent, ConnectionState } from '../events.js';
import { writePrivateFileAtomic } from '../state/config-dir.js';
import { complete } from './completion.js';
import type { ChatController, ControllerHost } from './controller.js';
import { windowForKey } from './keys.js';
import { formatPrompt } from './prompt.js';
import { WindowScreen } from './window-screen.js';
import { STATUS_WINDOW, type WindowView } from './windows.js';
import { visibleWidth } from './wrap.js';

export interface TerminalOptions {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  self: string;
  color: boolean;
  /** Ring the terminal bell for a direct message while the input line is not empty. */
  bell: boolean;
  /** Where input history is kept across runs (mode 0600); undefined keeps it in memory. */
  historyFile?: string;
  /** Also store message text in the history file (off by default). */
  saveMessageHistory?: boolean;
  /** Lines arriving closer together than this are treated as one paste. */
  pasteWindowMs?: number;
}

const HISTORY_SIZE = 500;
/** Commands whose arguments carry message text: kept out of the history file by default. */
const TEXT_COMMANDS = new Set(['to', 'me', 'server']);

/**
 * The interactive terminal: a readline prompt that survives incoming messages (they are
 * printed above it and the half-typed line is redrawn), tab completion of commands and
 * names, history across runs, paste detection, and a bell for direct messages.
 */
export class TerminalUI implements ControllerHost {
  readonly closed: Promise<void>;
  #options: TerminalOptions;
  #rl: Interface;
  #controller: ChatController | undefined;
  #paste: string[] = [];
  #pasteTimer: NodeJS.Timeout | undefined;
  #asking = false;
  #closing = false;
  #resolveClosed!: () => void;
  /** When the pending reconnect attempt fires: the prompt counts down to it. */
  #reconnectAt: number | undefined;
  #countdown: NodeJS.Timeout | undefined;
  /** Windows: their scrollback, and what the screen shows. */
  #screen: WindowScreen;
  /** A typed line or a window key is being handled: a change of window repaints after it. */
  #handling = false;

  constructor(options: TerminalOptions) {
    this.#options = options;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#rl = createInterface({
      input: options.input,
      output: options.output,
      terminal: true,
      history: this.#loadHistory(),
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      completer: (line: string) => this.#complete(line),
    });
    this.#screen = new WindowScreen({
      output: options.output,
      rl: this.#rl,
      color: options.color,
      self: options.self,
    });
    this.#rl.on('line', (line) => this.#onLine(line));
    this.#rl.on('SIGINT', () => this.quit());
    // Alt-1…9 (Alt-0 = 10) and F1…F12 switch windows, irssi style.
    options.input.on('keypress', (_text: string, key: { sequence?: string } | undefined) => {
      const number = windowForKey(key?.sequence);
      if (number === undefined || this.#asking || !this.#controller) return;
      this.#run(`/window ${number}`);
    });
    this.#rl.on('close', () => this.#finish());
    // Lines rewrap at the new width: repaint the active window (rows are no longer where
    // they were).
    options.output.on('resize', () => this.#repaint());
  }

  attach(controller: ChatController): void {
    this.#controller = controller;
    this.refreshPrompt();
  }

  /**
   * Keeps an event in the windows it belongs to and prints it above the prompt, without
   * disturbing what is being typed, when the screen shows one of them.
   */
  show(event: ClientEvent): void {
    const active = this.#activeWindow();
    // The client changed the active window by itself (the lobby at start): the screen
    // now belongs to it, without a repaint.
    if (!this.#handling && active !== this.#screen.showing) this.#screen.adopt(active);
    if (event.kind === 'delivery' && this.#screen.mark(event)) return;
    if (
      this.#options.bell &&
      event.kind === 'message' &&
      event.direction === 'in' &&
      this.#rl.line.length > 0
    ) {
      this.#options.output.write('\x07');
    }
    if (event.kind === 'connection') this.#trackReconnect(event.status);
    if (!this.#closing) this.#screen.show(event, this.#view(active));
    // Messages change unread counts; joins can change the active window (the lobby at start).
    if (event.kind === 'message' || event.kind === 'connection' || event.kind === 'room')
      this.refreshPrompt();
  }

  clear(): void {
    this.#screen.clear();
    this.#rl.prompt(true);
  }

  quit(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#rl.close();
  }

  /** Redraws the prompt (target, connection state, unread counts) keeping the typed line. */
  refreshPrompt(): void {
    if (this.#closing || this.#asking) return;
    const controller = this.#controller;
    let connection: ConnectionState = controller?.client.connectionState ?? {
      state: 'connecting',
      attempt: 1,
    };
    if (connection.state === 'reconnecting' && this.#reconnectAt !== undefined)
      connection = { ...connection, inMs: Math.max(0, this.#reconnectAt - Date.now()) };
    // Clear with the prompt still on screen: a new prompt of another length can wrap the
    // typed line onto a different number of rows.
    this.#screen.clearInputArea();
    this.#rl.setPrompt(this.#promptText(connection));
    this.#rl.prompt(true);
  }

  #promptText(connection: ConnectionState): string {
    const controller = this.#controller;
    return formatPrompt({
      ...(controller?.target ? { target: controller.target } : {}),
      statusWindow: true,
      connection,
      unread: controller?.unread ?? new Map(),
      highlights: controller?.conversations.highlights ?? new Map(),
      color: this.#options.color,
    });
  }

  #activeWindow(): string {
    return this.#controller?.conversations.activeWindow ?? STATUS_WINDOW;
  }

  #view(active: string): WindowView {
    const conversations = this.#controller?.conversations;
    return {
      active,
      isOpen: (key) => conversations?.isOpen(key) === true,
      self: this.#options.self,
    };
  }

  /** Handles a line or a window key; a change of the active window repaints it. */
  #run(line: string): void {
    this.#handling = true;
    try {
      this.#controller?.handle(line);
    } finally {
      this.#handling = false;
    }
    if (this.#activeWindow() !== this.#screen.showing) this.#repaint();
    else this.refreshPrompt();
  }

  /** Repaints the active window's last screenful, then the prompt with the typed line. */
  #repaint(): void {
    if (this.#closing || this.#asking) return;
    const connection = this.#controller?.client.connectionState ?? {
      state: 'connecting',
      attempt: 1,
    };
    const prompt = this.#promptText(connection);
    this.#screen.repaint(this.#activeWindow(), prompt);
    // Not refreshPrompt: the old prompt is gone with the screen, there is nothing to climb
    // over and clear (a wrapped half-typed line would make it erase the repainted rows).
    this.#rl.setPrompt(prompt);
    this.#rl.prompt(true);
  }

  /** While a reconnect is pending, redraws the prompt every second: `(reconnecting Ns)` counts down. */
  #trackReconnect(status: ConnectionState): void {
    clearInterval(this.#countdown);
    this.#countdown = undefined;
    this.#reconnectAt = undefined;
    if (status.state !== 'reconnecting' || this.#closing) return;
    this.#reconnectAt = Date.now() + status.inMs;
    this.#countdown = setInterval(() => this.refreshPrompt(), 1000);
    this.#countdown.unref();
  }

  #complete(line: string): [string[], string] {
    const controller = this.#controller;
    const result = complete(line, line.length, {
      users: controller ? controller.client.peers.names() : [],
      rooms: controller
        ? [...controller.client.rooms.joinedNames(), ...controller.conversations.knownRooms]
        : [],
      commands: COMMANDS,
      self: this.#options.self,
    });
    return [result.candidates, line.slice(result.replaceFrom)];
  }

  #onLine(line: string): void {
    // readline left the submitted line on screen: it counts among the rows printed.
    this.#screen.countTyped(visibleWidth(this.#rl.getPrompt()) + visibleWidth(line));
    if (this.#asking) return;
    this.#paste.push(line);
    clearTimeout(this.#pasteTimer);
    this.#pasteTimer = setTimeout(() => this.#flushInput(), this.#options.pasteWindowMs ?? 15);
  }

  #flushInput(): void {
    const lines = this.#paste;
    this.#paste = [];
    if (lines.length === 1) {
      this.#submit(lines[0]!);
      return;
    }
    this.#asking = true;
    this.#rl.question(
      `You pasted ${lines.length} lines. Send them as one (m)ulti-line message, (s)eparately, or (d)iscard? [m/s/d] `,
      (answer) => {
        this.#asking = false;
        const choice = answer.trim().toLowerCase();
        if (choice === 'm' || choice === '') this.#submit(lines.join('\n'));
        else if (choice === 's') for (const line of lines) this.#submit(line);
        else
          this.show({
            kind: 'info',
            ts: Date.now(),
            text: `discarded ${lines.length} pasted lines`,
          });
        this.refreshPrompt();
      },
    );
  }

  #submit(line: string): void {
    this.#run(line);
    this.#saveHistory();
  }

  #loadHistory(): string[] {
    const file = this.#options.historyFile;
    if (!file || !existsSync(file)) return [];
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return Array.isArray(parsed)
        ? parsed.filter((x): x is string => typeof x === 'string').slice(0, HISTORY_SIZE)
        : [];
    } catch {
      return [];
    }
  }

  /** Keeps only entries that are safe to store (no message text unless opted in). */
  #saveHistory(): void {
    const file = this.#options.historyFile;
    if (!file) return;
    const history = (this.#rl as unknown as { history: string[] }).history ?? [];
    const keep = history.filter((entry) => {
      if (this.#options.saveMessageHistory) return true;
      const parsed = parseInput(entry);
      return parsed.kind === 'command' && !TEXT_COMMANDS.has(parsed.name);
    });
    try {
      writePrivateFileAtomic(file, JSON.stringify(keep.slice(0, HISTORY_SIZE)));
    } catch {
      // History is a convenience: never let a read-only config dir break the chat.
    }
  }

  #finish(): void {
    this.#closing = true;
    this.#screen.closed = true;
    clearTimeout(this.#pasteTimer);
    clearInterval(this.#countdown);
    this.#resolveClosed();
  }
}
