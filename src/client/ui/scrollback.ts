/**
 * One window's scrollback: a bounded ring of rendered lines (already sanitized, coloured,
 * not yet wrapped), so a window can be repainted at whatever width the terminal has when
 * the user switches to it. Pure: no terminal, no timers.
 */
import { visibleWidth, wrapLine } from './wrap.js';

/** Entries (events) one window keeps. */
export const MAX_SCROLLBACK_ENTRIES = 1000;
/** UTF-8 bytes of rendered text one window keeps (the newest entry is always kept). */
export const MAX_SCROLLBACK_BYTES = 256 * 1024;

/** What one event left in a window: its rendered lines, unwrapped. */
export interface ScrollbackEntry {
  /** Rendered lines without `\n`, not wrapped; continuation lines carry their indent. */
  readonly lines: readonly string[];
  /** Hanging indent for wrapping (the width of the timestamp and head). */
  readonly indent: number;
  /** Our message's id, for its delivery mark. */
  readonly id?: string;
  /** The delivery mark shown after the message (styled), updated in place. */
  mark?: string;
}

/** One screen row of a window, and where a message's last row is (to mark it later). */
export interface PaintedRow {
  text: string;
  /** Set on the last row of an own message: the id, and the row without its mark. */
  message?: { id: string; line: string };
}

export interface ScrollbackLimits {
  maxEntries?: number;
  maxBytes?: number;
}

/** Rows an entry takes at `width`: wrapped lines, the mark after the last one if it fits. */
export function paintEntry(entry: ScrollbackEntry, width: number): PaintedRow[] {
  const rows: PaintedRow[] = [];
  for (const line of entry.lines)
    for (const row of wrapLine(line, width, entry.indent)) rows.push({ text: row });
  const last = rows[rows.length - 1];
  if (last === undefined || entry.id === undefined) return rows;
  const line = last.text;
  if (entry.mark === undefined) {
    last.message = { id: entry.id, line };
  } else if (visibleWidth(line) + 1 + visibleWidth(entry.mark) <= width) {
    last.text = `${line} ${entry.mark}`;
    last.message = { id: entry.id, line };
  } else {
    // No room on the row: the mark gets its own (the row is then not marked in place).
    rows.push({
      text: `${' '.repeat(Math.min(entry.indent, Math.max(0, width - 1)))}${entry.mark}`,
    });
  }
  return rows;
}

function bytesOf(entry: ScrollbackEntry): number {
  let bytes = 64; // per-entry overhead, so many empty entries still count
  for (const line of entry.lines) bytes += Buffer.byteLength(line, 'utf8');
  return bytes;
}

/** A bounded ring of entries, oldest dropped first when the count or the bytes overflow. */
export class Scrollback {
  #entries: ScrollbackEntry[] = [];
  #sizes: number[] = [];
  #bytes = 0;
  readonly #maxEntries: number;
  readonly #maxBytes: number;

  constructor(limits: ScrollbackLimits = {}) {
    this.#maxEntries = Math.max(1, limits.maxEntries ?? MAX_SCROLLBACK_ENTRIES);
    this.#maxBytes = Math.max(1, limits.maxBytes ?? MAX_SCROLLBACK_BYTES);
  }

  get size(): number {
    return this.#entries.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  entries(): readonly ScrollbackEntry[] {
    return this.#entries;
  }

  /** Adds an entry; returns the entries dropped to stay within the limits. */
  push(entry: ScrollbackEntry): ScrollbackEntry[] {
    const size = bytesOf(entry);
    this.#entries.push(entry);
    this.#sizes.push(size);
    this.#bytes += size;
    let drop = 0;
    let bytes = this.#bytes;
    while (
      this.#entries.length - drop > 1 &&
      (this.#entries.length - drop > this.#maxEntries || bytes > this.#maxBytes)
    ) {
      bytes -= this.#sizes[drop]!;
      drop++;
    }
    if (drop === 0) return [];
    this.#bytes = bytes;
    this.#sizes.splice(0, drop);
    return this.#entries.splice(0, drop);
  }

  /**
   * The last `rows` screen rows at `width`, oldest first: what a repaint shows. Wraps
   * only the entries it needs, from the newest back.
   */
  tail(rows: number, width: number): PaintedRow[] {
    const want = Math.max(0, Math.floor(rows));
    const out: PaintedRow[][] = [];
    let count = 0;
    for (let i = this.#entries.length - 1; i >= 0 && count < want; i--) {
      const painted = paintEntry(this.#entries[i]!, width);
      out.push(painted);
      count += painted.length;
    }
    const flat = out.reverse().flat();
    return flat.slice(Math.max(0, flat.length - want));
  }

  clear(): void {
    this.#entries = [];
    this.#sizes = [];
    this.#bytes = 0;
  }
}
