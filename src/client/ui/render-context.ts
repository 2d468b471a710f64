/** What every renderer shares: options, limits, the clock, and line layout with wrapping. */
import { nameKey } from '../../protocol/names.js';
import { sanitizeText } from './sanitize.js';
import { type Styles, stylesFor } from './theme.js';
import { effectiveIndent, visibleWidth, wrapLine } from './wrap.js';

export interface RenderOptions {
  /** Add SGR colours (chalk level 1, 16 colours). */
  color: boolean;
  /** Our own user name: tells own messages and `(you)` apart. */
  self: string;
  /** Clock for events without a usable `ts`. Default `() => new Date()`. */
  now?: () => Date;
  /** Formats the time inside `[…]`. Default: local `HH:MM:SS`. */
  timeFormat?: (date: Date) => string;
  /** Wrap to this many columns (hanging indent under the text). Default: no wrapping. */
  width?: number;
  /**
   * Filled with the hanging indent of the first line rendered, for a caller that keeps the
   * lines unwrapped and wraps them later (the terminal's window scrollback).
   */
  layout?: { indent?: number };
}

/** Upper bound on one message's rendered text, in code points, before wrapping. */
export const MAX_RENDERED_TEXT = 8192;
/** Upper bound for notices, reasons and other single-line peer-supplied strings. */
export const MAX_RENDERED_NOTE = 1024;

/** Local `HH:MM:SS`. */
export function formatClock(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

export interface Context {
  s: Styles;
  color: boolean;
  self: string;
  /** Timestamp + `head` on the first line, `body` (may hold `\n`) after it, wrapped. */
  lines(ts: number, head: string, body: string, paintBody?: 'warning' | 'error'): string[];
}

export function contextFor(opts: RenderOptions): Context {
  const s = stylesFor(opts.color);
  const now = opts.now ?? (() => new Date());
  const clock = opts.timeFormat ?? formatClock;
  return {
    s,
    color: opts.color,
    self: opts.self,
    lines(ts, head, body, paintBody) {
      const given = new Date(Number.isFinite(ts) ? ts : Number.NaN);
      const date = Number.isNaN(given.getTime()) ? now() : given;
      const stamp = s.timestamp(`[${sanitizeText(clock(date))}]`);
      const first = `${stamp} ${head}`;
      const indent = visibleWidth(first);
      if (opts.layout && opts.layout.indent === undefined) opts.layout.indent = indent;
      const paint = paintBody === undefined ? (t: string) => t : s[paintBody];
      const hang = opts.width === undefined ? indent : effectiveIndent(indent, opts.width);
      const pad = ' '.repeat(hang);
      const out: string[] = [];
      body.split('\n').forEach((part, i) => {
        const line = i === 0 ? first + paint(part) : pad + paint(part);
        if (opts.width === undefined) out.push(line);
        else out.push(...wrapLine(line, opts.width, indent));
      });
      return out;
    },
  };
}

export const text = (value: string) =>
  sanitizeText(value, { multiline: true, maxLength: MAX_RENDERED_TEXT });
export const note = (value: string) => sanitizeText(value, { maxLength: MAX_RENDERED_NOTE });
/** Multi-line notices (`/help`, lists) may be as long as a message. */
export const multiNote = (value: string) =>
  sanitizeText(value, { multiline: true, maxLength: MAX_RENDERED_TEXT });

export const sameName = (a: string, b: string) => nameKey(a) === nameKey(b);
