/**
 * The screen of a terminal with windows: every rendered event is kept in the scrollback
 * of the windows it belongs to (windows.ts) and printed above the prompt only when the
 * screen shows one of them. Switching windows repaints the screen from the target
 * window's scrollback; delivery marks update the kept line and, while it is on screen,
 * the row itself. The readline prompt stays readline's: this class only moves the cursor
 * around it.
 */
import { clearScreenDown, cursorTo, type Interface, moveCursor } from 'node:readline';
import type { ClientEvent, DeliveryEvent } from '../events.js';
import { ShownMessages, styledMark } from './delivery-marks.js';
import { renderEvent } from './render.js';
import { sanitizeName, sanitizeText } from './sanitize.js';
import { type PaintedRow, paintEntry, type ScrollbackEntry } from './scrollback.js';
import { stylesFor } from './theme.js';
import { STATUS_WINDOW, WindowBuffers, type WindowView, windowsFor } from './windows.js';
import { visibleWidth } from './wrap.js';

export interface WindowScreenOptions {
  output: NodeJS.WriteStream;
  rl: Interface;
  color: boolean;
  self: string;
}

export class WindowScreen {
  readonly #output: NodeJS.WriteStream;
  readonly #rl: Interface;
  readonly #color: boolean;
  readonly #self: string;
  readonly #buffers = new WindowBuffers();
  /** The window the screen shows. */
  #showing: string = STATUS_WINDOW;
  /** Rows printed above the prompt since the last repaint (each rendered row is one). */
  #rows = 0;
  /** Our messages still on screen, to mark with their delivery in place. */
  #shown = new ShownMessages();
  closed = false;

  constructor(options: WindowScreenOptions) {
    this.#output = options.output;
    this.#rl = options.rl;
    this.#color = options.color;
    this.#self = options.self;
  }

  /** The window on screen (a name key, or STATUS_WINDOW). */
  get showing(): string {
    return this.#showing;
  }

  get width(): number {
    return this.#output.columns || 80;
  }

  /**
   * The screen now belongs to `window` without a repaint: what is on screen stays (at
   * start, the status lines above the lobby the client joins by itself).
   */
  adopt(window: string): void {
    this.#showing = window;
  }

  /** Keeps an event's lines in its windows; prints them if the screen shows one. */
  show(event: ClientEvent, view: WindowView): void {
    const layout: { indent?: number } = {};
    const lines = renderEvent(event, { color: this.#color, self: this.#self, layout });
    if (lines.length === 0) return;
    const own = event.kind === 'message' && event.direction === 'out' ? event.id : undefined;
    const entry: ScrollbackEntry = {
      lines,
      indent: layout.indent ?? 0,
      ...(own === undefined ? {} : { id: own }),
    };
    const windows = windowsFor(event, view);
    this.#buffers.append(windows, entry);
    if (windows.includes(this.#showing)) this.#print(paintEntry(entry, this.width));
  }

  /**
   * Marks our message with its delivery: the kept line always; on screen, the row in
   * place while it is visible and the mark fits, else one short line below. A failure of
   * a message in hidden windows is also told where the user is, in that short line.
   * Returns false for a message no window holds (its status is then shown as an event).
   */
  mark(event: DeliveryEvent): boolean {
    const mark = styledMark(stylesFor(this.#color), event.status, event.reason);
    const windows = this.#buffers.mark(event.id, mark);
    if (windows.length === 0) return false;
    if (this.closed) return true;
    if (!windows.includes(this.#showing)) {
      if (event.status === 'failed') this.#markLine(event, mark);
      return true;
    }
    const shown = this.#shown.get(event.id);
    const up = shown === undefined ? 0 : this.#rows - shown.row;
    const fits = shown !== undefined && shown.width + 1 + visibleWidth(mark) <= this.width;
    const onScreen = up + this.#promptRows() <= (this.#output.rows || 24) - 1;
    if (shown !== undefined && fits && onScreen) {
      this.#clearInputArea();
      moveCursor(this.#output, 0, -up);
      cursorTo(this.#output, 0);
      this.#output.write(`\x1b[2K${shown.line} ${mark}`);
      moveCursor(this.#output, 0, up);
      cursorTo(this.#output, 0);
      this.#rl.prompt(true);
      return true;
    }
    this.#markLine(event, mark);
    return true;
  }

  /** One short line with the mark, in the window on screen (kept there too). */
  #markLine(event: DeliveryEvent, mark: string): void {
    const text = `msg ${sanitizeText(event.id)} to ${sanitizeName(event.to)}: ${mark}`;
    const layout: { indent?: number } = {};
    const lines = renderEvent(
      { kind: 'info', ts: event.ts, text },
      { color: this.#color, self: this.#self, layout },
    );
    const entry = { lines, indent: layout.indent ?? 0 };
    this.#buffers.append([this.#showing], entry);
    this.#print(paintEntry(entry, this.width));
  }

  /**
   * Clears the screen and paints the last screenful of `window`, leaving the rows the
   * prompt (and the half-typed line) needs; the caller redraws the prompt. Positions of
   * earlier rows are forgotten; those of our messages painted now are remembered.
   */
  repaint(window: string, prompt: string): void {
    this.#showing = window;
    this.#shown.forgetAll();
    const width = this.width;
    const typed = visibleWidth(prompt) + visibleWidth(this.#rl.line);
    const promptRows = Math.max(1, Math.ceil((typed + 1) / width));
    const room = Math.max(0, (this.#output.rows || 24) - promptRows - 1);
    const rows = this.#buffers.buffer(window)?.tail(room, width) ?? [];
    cursorTo(this.#output, 0, 0);
    clearScreenDown(this.#output);
    (this.#rl as unknown as { prevRows: number }).prevRows = 0;
    this.#rows = 0;
    if (rows.length > 0) this.#output.write(`${rows.map((row) => row.text).join('\n')}\n`);
    this.#remember(rows);
  }

  /** `/clear`: empties the window on screen and the screen. */
  clear(): void {
    this.#buffers.clear(this.#showing);
    this.#shown.forgetAll();
    this.#rows = 0;
    cursorTo(this.#output, 0, 0);
    clearScreenDown(this.#output);
    (this.#rl as unknown as { prevRows: number }).prevRows = 0;
  }

  /** The submitted line readline leaves on screen counts among the rows printed. */
  countTyped(promptAndLine: number): void {
    this.#rows += Math.max(1, Math.ceil(promptAndLine / this.width));
  }

  /**
   * Moves to the first row of the prompt and erases it and everything below. readline
   * redraws by first moving up `prevRows` (the cursor row of its last drawing); that is
   * now 0, else a wrapped input line would make the redraw climb over the lines printed
   * above it and erase them.
   */
  clearInputArea(): void {
    this.#clearInputArea();
  }

  #clearInputArea(): void {
    const { rows } = this.#rl.getCursorPos();
    if (rows > 0) moveCursor(this.#output, 0, -rows);
    cursorTo(this.#output, 0);
    clearScreenDown(this.#output);
    (this.#rl as unknown as { prevRows: number }).prevRows = 0;
  }

  #promptRows(): number {
    return this.#rl.getCursorPos().rows + 1;
  }

  #print(rows: PaintedRow[]): void {
    if (rows.length === 0 || this.closed) return;
    this.#clearInputArea();
    this.#output.write(`${rows.map((row) => row.text).join('\n')}\n`);
    this.#remember(rows);
    // While asking about a paste, readline's prompt is the question: redraw it too.
    this.#rl.prompt(true);
  }

  /** Counts rows just written and remembers where our messages' last rows are. */
  #remember(rows: PaintedRow[]): void {
    const first = this.#rows;
    this.#rows += rows.length;
    rows.forEach((row, i) => {
      if (row.message === undefined) return;
      const { id, line } = row.message;
      this.#shown.remember(id, { row: first + i, line, width: visibleWidth(line) });
    });
  }
}
