import { existsSync, readFileSync } from 'node:fs';
import {
  clearScreenDown,
  createInterface,
  cursorTo,
  type Interface,
  moveCursor,
} from 'node:readline';
import { COMMANDS, parseInput } from '../commands/index.js';
import type { ClientEvent, ConnectionState, DeliveryEvent } from '../events.js';
import { writePrivateFileAtomic } from '../state/config-dir.js';
import { complete } from './completion.js';
import type { ChatController, ControllerHost } from './controller.js';
import { ShownMessages, styledMark } from './delivery-marks.js';
import { formatPrompt } from './prompt.js';
import { renderEvent } from './render.js';
import { sanitizeName, sanitizeText } from './sanitize.js';
import { stylesFor } from './theme.js';
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
  /** Rows printed above the prompt so far (each rendered line is one row). */
  #rows = 0;
  /** Our messages still on screen, to mark with their delivery. */
  #shown = new ShownMessages();

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
    this.#rl.on('line', (line) => this.#onLine(line));
    this.#rl.on('SIGINT', () => this.quit());
    // Alt-1…9 switch windows, irssi style (the terminal sends ESC then the digit).
    options.input.on('keypress', (_text: string, key: { meta?: boolean; sequence?: string }) => {
      const digit = /^\x1b([1-9])$/.exec(key?.sequence ?? '')?.[1];
      if (digit === undefined || this.#asking || !this.#controller) return;
      this.#controller.handle(`/window ${digit}`);
      this.refreshPrompt();
    });
    this.#rl.on('close', () => this.#finish());
    options.output.on('resize', () => {
      this.#shown.forgetAll(); // lines rewrap: rows are no longer where they were
      this.refreshPrompt();
    });
  }

  attach(controller: ChatController): void {
    this.#controller = controller;
    this.refreshPrompt();
  }

  /** Prints an event above the prompt without disturbing what is being typed. */
  show(event: ClientEvent): void {
    if (event.kind === 'delivery' && this.#markDelivery(event)) return;
    const width = this.#options.output.columns || 80;
    const lines = renderEvent(event, {
      color: this.#options.color,
      self: this.#options.self,
      width,
    });
    if (
      this.#options.bell &&
      event.kind === 'message' &&
      event.direction === 'in' &&
      this.#rl.line.length > 0
    ) {
      this.#options.output.write('\x07');
    }
    if (event.kind === 'connection') this.#trackReconnect(event.status);
    this.#printAbove(lines);
    if (event.kind === 'message' && event.direction === 'out' && event.id && lines.length > 0) {
      const line = lines[lines.length - 1]!;
      this.#shown.remember(event.id, { row: this.#rows - 1, line, width: visibleWidth(line) });
    }
    // Messages change unread counts; joins can change the active window (the lobby at start).
    if (event.kind === 'message' || event.kind === 'connection' || event.kind === 'room')
      this.refreshPrompt();
  }

  clear(): void {
    this.#shown.forgetAll();
    cursorTo(this.#options.output, 0, 0);
    clearScreenDown(this.#options.output);
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
    this.#clearInputArea();
    this.#rl.setPrompt(
      formatPrompt({
        ...(controller?.target ? { target: controller.target } : {}),
        connection,
        unread: controller?.unread ?? new Map(),
        highlights: controller?.conversations.highlights ?? new Map(),
        color: this.#options.color,
      }),
    );
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

  /**
   * Moves to the first row of the prompt and erases it and everything below. readline
   * redraws by first moving up `prevRows` (the cursor row of its last drawing); that is
   * now 0, else a wrapped input line would make the redraw climb over the lines printed
   * above it and erase them.
   */
  #clearInputArea(): void {
    const output = this.#options.output;
    const { rows } = this.#rl.getCursorPos();
    if (rows > 0) moveCursor(output, 0, -rows);
    cursorTo(output, 0);
    clearScreenDown(output);
    (this.#rl as unknown as { prevRows: number }).prevRows = 0;
  }

  /**
   * Marks a message shown earlier with its delivery status: rewrites its last line in
   * place while it is on screen and the mark fits; else one short line below. Returns
   * false for a message this screen never showed (its status is printed as an event).
   */
  #markDelivery(event: DeliveryEvent): boolean {
    const shown = this.#shown.get(event.id);
    if (!shown || this.#closing) return false;
    const output = this.#options.output;
    const mark = styledMark(stylesFor(this.#options.color), event.status, event.reason);
    const up = this.#rows - shown.row;
    const promptRows = this.#rl.getCursorPos().rows + 1;
    const fits = shown.width + 1 + visibleWidth(mark) <= (output.columns || 80);
    const onScreen = up + promptRows <= (output.rows || 24) - 1;
    if (fits && onScreen) {
      this.#clearInputArea();
      moveCursor(output, 0, -up);
      cursorTo(output, 0);
      output.write(`\x1b[2K${shown.line} ${mark}`);
      moveCursor(output, 0, up);
      cursorTo(output, 0);
      this.#rl.prompt(true);
      return true;
    }
    const text = `msg ${sanitizeText(event.id)} to ${sanitizeName(event.to)}: ${mark}`;
    this.#printAbove(
      renderEvent(
        { kind: 'info', ts: event.ts, text },
        { color: this.#options.color, self: this.#options.self, width: output.columns || 80 },
      ),
    );
    return true;
  }

  #printAbove(lines: string[]): void {
    if (lines.length === 0 || this.#closing) return;
    this.#clearInputArea();
    this.#options.output.write(`${lines.join('\n')}\n`);
    this.#rows += lines.length;
    // While asking about a paste, readline's prompt is the question: redraw it too.
    this.#rl.prompt(true);
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
    const typed = visibleWidth(this.#rl.getPrompt()) + visibleWidth(line);
    this.#rows += Math.max(1, Math.ceil(typed / (this.#options.output.columns || 80)));
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
    this.#controller?.handle(line);
    this.#saveHistory();
    this.refreshPrompt();
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
    clearTimeout(this.#pasteTimer);
    clearInterval(this.#countdown);
    this.#resolveClosed();
  }
}
