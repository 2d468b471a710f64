/**
 * Terminal column widths and word wrapping for rendered lines.
 *
 * Widths are an approximation of wcwidth without a dependency: SGR colour sequences
 * (`ESC [ … m`) count 0, combining marks (Mn, Me) and other controls 0, East Asian Wide
 * and Fullwidth ranges (a small table) and characters with default emoji presentation 2,
 * VS16 (U+FE0F) 1 (it usually widens the preceding symbol), everything else 1.
 * Ambiguous-width characters (EAW "A", e.g. `…`) count 1, as in non-CJK locales. Where
 * the table is wrong it errs towards wide (regional-indicator flags count 4, not 2), so a
 * wrapped line may end early but does not overflow.
 */

const ESC = '\u001b';
const SGR_RESET = `${ESC}[0m`;
/** Continuation lines keep their hanging indent only when this many columns remain. */
export const MIN_TEXT_COLUMNS = 12;
/** Indent of continuation lines when the full hanging indent does not fit. */
export const FALLBACK_INDENT = 2;
/** Narrower targets are treated as this wide: one wide character must fit. */
export const MIN_WRAP_WIDTH = 2;

// [start, end] inclusive, sorted. East Asian Wide (W) and Fullwidth (F) blocks.
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x18aff],
  [0x1b000, 0x1b2ff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cc}\p{Cf}]$/u;

function inWideTable(code: number): boolean {
  let lo = 0;
  let hi = WIDE_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = WIDE_RANGES[mid]!;
    if (code < start) hi = mid - 1;
    else if (code > end) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Columns one code point occupies (see the module comment for the approximation). */
export function charWidth(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if (code >= 0x20 && code < 0x7f) return 1;
  if (code === 0xfe0f) return 1;
  if (ZERO_WIDTH.test(char)) return 0;
  if (inWideTable(code) || EMOJI_PRESENTATION.test(char)) return 2;
  return 1;
}

interface Token {
  text: string;
  width: number;
  space: boolean;
  sgr: boolean;
}

/** Length of an SGR sequence starting at `i` (`ESC [ digits/; m`), or 0. */
function sgrLength(text: string, i: number): number {
  if (text[i] !== ESC || text[i + 1] !== '[') return 0;
  for (let j = i + 2; j < text.length && j < i + 64; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x6d) return j - i + 1; // 'm'
    if (!((c >= 0x30 && c <= 0x39) || c === 0x3b)) return 0;
  }
  return 0;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const sgr = sgrLength(text, i);
    if (sgr > 0) {
      tokens.push({ text: text.slice(i, i + sgr), width: 0, space: false, sgr: true });
      i += sgr;
      continue;
    }
    const code = text.codePointAt(i)!;
    const char = String.fromCodePoint(code);
    tokens.push({ text: char, width: charWidth(char), space: char === ' ', sgr: false });
    i += char.length;
  }
  return tokens;
}

/** Columns `text` occupies, ignoring SGR colour sequences. */
export function visibleWidth(text: string): number {
  let width = 0;
  for (const token of tokenize(text)) width += token.width;
  return width;
}

/** Removes SGR colour sequences (only those; other escapes are left for the caller to see). */
export function stripSgr(text: string): string {
  let out = '';
  for (const token of tokenize(text)) if (!token.sgr) out += token.text;
  return out;
}

/**
 * The hanging indent `wrapLine` will use for `indent` at `width`: the full indent when
 * MIN_TEXT_COLUMNS remain, else a token indent of FALLBACK_INDENT, so a continuation never
 * starts in column 0 where a real line starts (a peer could otherwise forge a timestamp
 * and nick by choosing where its text wraps).
 */
export function effectiveIndent(indent: number, width: number): number {
  const max = Math.max(MIN_WRAP_WIDTH, Math.floor(width));
  const hang = Math.max(0, Math.floor(indent));
  if (max - hang >= MIN_TEXT_COLUMNS) return hang;
  return max - FALLBACK_INDENT >= FALLBACK_INDENT * 2 ? Math.min(hang, FALLBACK_INDENT) : 0;
}

/**
 * Splits one display line (no `\n`) into lines of at most `width` columns, breaking at
 * spaces where possible and inside words where a word alone is too long. Continuation
 * lines start with `indent` spaces (a hanging indent under the message text), or with
 * FALLBACK_INDENT when fewer than MIN_TEXT_COLUMNS would remain. Colours open at a break are closed at the end of the
 * line and reopened after the indent, so every line is self-contained. A `width` below
 * MIN_WRAP_WIDTH is treated as MIN_WRAP_WIDTH; a non-finite width disables wrapping.
 */
export function wrapLine(line: string, width: number, indent = 0): string[] {
  if (!Number.isFinite(width)) return [line];
  const max = Math.max(MIN_WRAP_WIDTH, Math.floor(width));
  const tokens = tokenize(line);
  let total = 0;
  for (const token of tokens) total += token.width;
  if (total <= max) return [line];

  const hang = effectiveIndent(indent, max);
  const pad = ' '.repeat(hang);
  const lines: string[] = [];
  let active: string[] = [];
  let current = '';
  let used = 0;
  let start = 0; // columns at the start of the current line (0, then the indent)

  const append = (token: Token): void => {
    current += token.text;
    used += token.width;
    if (!token.sgr) return;
    if (token.text === SGR_RESET || token.text === `${ESC}[m`) active = [];
    else active.push(token.text);
  };
  const breakLine = (): void => {
    lines.push(active.length > 0 ? current + SGR_RESET : current);
    current = pad + active.join('');
    used = hang;
    start = hang;
  };

  let pending: Token[] = [];
  let pendingWidth = 0;
  let word: Token[] = [];
  let wordWidth = 0;
  const placeWord = (): void => {
    if (word.length === 0) return;
    if (used + pendingWidth + wordWidth <= max) {
      for (const token of pending) append(token);
    } else if (used > start) {
      for (const token of pending) if (token.sgr) append(token); // drop spaces, keep colours
      breakLine();
    } else {
      // Nothing on this line yet (leading spaces, e.g. an indent): keep what leaves room.
      for (const token of pending) if (token.sgr || used + token.width < max) append(token);
    }
    for (const token of word) {
      if (!token.sgr && used + token.width > max && used > start) breakLine();
      append(token);
    }
    pending = [];
    pendingWidth = 0;
    word = [];
    wordWidth = 0;
  };

  for (const token of tokens) {
    if (token.space) {
      placeWord();
      pending.push(token);
      pendingWidth += token.width;
    } else if (token.sgr && word.length === 0 && pending.length > 0) {
      pending.push(token);
    } else {
      word.push(token);
      wordWidth += token.width;
    }
  }
  placeWord();
  for (const token of pending) {
    if (token.sgr) append(token);
    else if (used + token.width <= max) append(token);
  }
  lines.push(current);
  return lines;
}
