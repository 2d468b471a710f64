/**
 * Neutralizes peer-supplied text before it reaches a terminal (docs: security notes,
 * "Rendering peer text in a terminal"). Everything a terminal could act on is replaced by
 * a visible, inert placeholder, so the reader sees that something was there:
 *
 * - C0 controls U+0000-U+001F and DEL become caret notation: `^@` ... `^_`, `^?`
 *   (ESC is `^[`, BEL `^G`, CR `^M`, TAB `^I`). With `{ multiline: true }` a LF is kept
 *   as a line break; CR never is (a bare CR would let a peer overwrite the line).
 * - Every other neutralized code point becomes `\u{XXXX}` (uppercase hex, at least four
 *   digits): C1 controls U+0080-U+009F (including the one-character CSI U+009B and ST
 *   U+009C), format characters `\p{Cf}` (bidi embeddings/overrides/isolates U+202A-U+202E,
 *   U+2066-U+2069, marks U+200E/U+200F/U+061C, zero-width space/joiners, BOM, soft hyphen,
 *   interlinear annotation U+FFF9-U+FFFB, tag characters), the line and paragraph
 *   separators U+2028/U+2029, and lone surrogates.
 *
 * Escape sequences are not parsed: their introducer (ESC, or the C1 form) is made visible,
 * so the rest of the sequence, CSI parameters, an OSC 8 link target or an OSC 52
 * clipboard payload, shows as ordinary text. Nothing is ever swallowed, so an unterminated
 * sequence at the end of a message cannot eat the next line. Output contains only
 * printable characters (plus LF when asked), so sanitizing twice changes nothing.
 *
 * One linear pass: a single-character class regex without quantifiers.
 */

export interface SanitizeOptions {
  /** Keep LF (`\n`) as a line break. Default false: LF becomes `^J`. CR is never kept. */
  multiline?: boolean;
  /** Cap the result at this many code points, ending with `ellipsis`. */
  maxLength?: number;
  /** Marks a truncated result. Default `…` (U+2026). */
  ellipsis?: string;
}

/** Default display cap for a name that failed validation and had to be escaped. */
export const MAX_DISPLAY_NAME_LENGTH = 48;

const DEFAULT_ELLIPSIS = '\u2026';

// Lone surrogates only match \p{Cs} in `u` mode; a valid pair is read as one code point.
const DANGEROUS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]|\p{Cs}/gu;
const DANGEROUS_KEEP_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]|\p{Cs}/gu;
const ONE_DANGEROUS = new RegExp(`^(?:${DANGEROUS.source})$`, 'u');
const ONE_DANGEROUS_KEEP_LF = new RegExp(`^(?:${DANGEROUS_KEEP_LF.source})$`, 'u');
/** Anything outside printable ASCII: names are `[A-Za-z0-9_.-]`, so this shows homoglyphs. */
const NOT_PRINTABLE_ASCII = /[^\u0021-\u007e\u2026]/gu;

/** Caret notation for C0 and DEL, `\u{XXXX}` for everything else. */
export function placeholderFor(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return '^?';
  return `\\u{${code.toString(16).toUpperCase().padStart(4, '0')}}`;
}

/** True when `char` (one code point) is something `sanitizeText` neutralizes. */
export function isDangerousChar(char: string, opts: { multiline?: boolean } = {}): boolean {
  return (opts.multiline ? ONE_DANGEROUS_KEEP_LF : ONE_DANGEROUS).test(char);
}

/** Makes `text` safe to print: see the module comment for what is replaced and how. */
export function sanitizeText(text: string, opts: SanitizeOptions = {}): string {
  const input = typeof text === 'string' ? text : String(text);
  const pattern = opts.multiline ? DANGEROUS_KEEP_LF : DANGEROUS;
  const safe = input.replace(pattern, placeholderFor);
  if (opts.maxLength === undefined) return safe;
  const ellipsis =
    opts.ellipsis === undefined
      ? DEFAULT_ELLIPSIS
      : opts.ellipsis.replace(DANGEROUS, placeholderFor);
  return truncate(safe, opts.maxLength, ellipsis);
}

/**
 * A name as it may be shown. Valid names (`[A-Za-z0-9_.-]{1,32}`) come back unchanged.
 * Anything else still renders safely and visibly different: C0 and DEL in caret notation,
 * every other character outside printable ASCII (spaces, homoglyphs such as Cyrillic
 * `а`, format characters, emoji) as `\u{XXXX}`. Valid names contain neither `\` nor `^`,
 * so an escaped name never looks like a valid one. An empty name renders as `\u{}` so the
 * slot is never blank; names longer than `maxLength` end in `…` (which is not escaped,
 * keeping this idempotent).
 */
export function sanitizeName(name: string, maxLength = MAX_DISPLAY_NAME_LENGTH): string {
  const input = typeof name === 'string' ? name : String(name);
  if (input.length === 0) return '\\u{}';
  const safe = input.replace(NOT_PRINTABLE_ASCII, placeholderFor);
  return truncate(safe, maxLength);
}

/**
 * Cuts `text` to at most `maxLength` code points, the last of which are `ellipsis`.
 * Never splits a surrogate pair. A `maxLength` shorter than the ellipsis gives a prefix of
 * the ellipsis; zero or less gives ''.
 */
export function truncate(text: string, maxLength: number, ellipsis = DEFAULT_ELLIPSIS): string {
  const limit = Math.max(0, Math.floor(maxLength));
  if (text.length <= limit) return text; // UTF-16 length bounds the code point count
  const points = Array.from(text);
  if (points.length <= limit) return text;
  const mark = Array.from(ellipsis);
  if (limit <= mark.length) return mark.slice(0, limit).join('');
  return points.slice(0, limit - mark.length).join('') + ellipsis;
}
