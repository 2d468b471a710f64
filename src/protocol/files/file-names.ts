import { MAX_SAVED_NAME_BYTES } from './file-limits.js';

/**
 * Safe local names for received files. A file name comes from a peer (inside the E2EE
 * descriptor), so it may be hostile: `../../.bashrc`, `CON`, `a\u202egpj.exe`, 10,000
 * characters. {@link safeFileName} keeps what a user would recognise and removes every
 * way out of the download directory or of the name shown.
 */

/** Windows device names, reserved with any extension (`CON.txt` too). */
const RESERVED = new Set([
  'CON',
  'PRN',
  'AUX',
  'NUL',
  'CONIN$',
  'CONOUT$',
  ...Array.from({ length: 10 }, (_, i) => `COM${i}`),
  ...Array.from({ length: 10 }, (_, i) => `LPT${i}`),
  'COM¹',
  'COM²',
  'COM³',
  'LPT¹',
  'LPT²',
  'LPT³',
]);

/** Characters Windows forbids in names (path separators among them). */
const FORBIDDEN_ASCII = new Set(['<', '>', ':', '"', '/', '\\', '|', '?', '*']);

const FORMAT = /^\p{Cf}$/u;

/** True for code points that must never reach a name: C0, DEL, C1, format (Cf: bidi, zero-width), separators of lines. */
function isUnsafeCodePoint(cp: number): boolean {
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return true;
  if (cp === 0x2028 || cp === 0x2029) return true;
  return cp > 0xa0 && FORMAT.test(String.fromCodePoint(cp));
}

/** The last component of a path written with `/` or `\`. */
function baseName(name: string): string {
  const cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  return cut < 0 ? name : name.slice(cut + 1);
}

const encoder = new TextEncoder();
const utf8Length = (text: string): number => encoder.encode(text).length;

/** `text` cut to at most `maxBytes` of UTF-8, never inside a code point. */
function cutUtf8(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = utf8Length(ch);
    if (bytes + size > maxBytes) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** Splits `name` into stem and extension (`.pdf`); a short final extension only. */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || name.length - dot > 16) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

/**
 * A file name safe to create inside a download directory on any common file system:
 * only the last path component; control, format (bidi overrides, zero-width) and
 * Windows-forbidden characters removed; no leading dots or spaces (no `..`, no hidden
 * files), no trailing dots or spaces; Windows device names prefixed with `_`; at most
 * {@link MAX_SAVED_NAME_BYTES} bytes of UTF-8 with the extension kept; `file` when
 * nothing is left. Pure and total: never throws.
 */
export function safeFileName(name: string, maxBytes = MAX_SAVED_NAME_BYTES): string {
  let kept = '';
  for (const ch of baseName(String(name))) {
    const cp = ch.codePointAt(0)!;
    if (isUnsafeCodePoint(cp) || FORBIDDEN_ASCII.has(ch)) continue;
    kept += ch;
  }
  // Separators removed above may have been inside the name (`a\u0000/b`): take the base again.
  kept = baseName(kept).normalize('NFC');
  let start = 0;
  while (start < kept.length && (kept[start] === '.' || kept[start] === ' ')) start++;
  let end = kept.length;
  while (end > start && (kept[end - 1] === '.' || kept[end - 1] === ' ')) end--;
  kept = kept.slice(start, end);
  if (kept === '') return 'file';
  const { stem, ext } = splitExtension(kept);
  const device = stem.split('.')[0]!.trimEnd().toUpperCase();
  let safe = RESERVED.has(device) ? `_${kept}` : kept;
  if (utf8Length(safe) > maxBytes) {
    const parts = splitExtension(safe);
    const room = Math.max(1, maxBytes - utf8Length(parts.ext));
    safe =
      cutUtf8(parts.stem, room).trimEnd() + (utf8Length(parts.ext) < maxBytes ? parts.ext : '');
    if (safe === '' || safe.startsWith('.')) safe = `file${ext}`;
  }
  return safe;
}

/**
 * The `n`th alternative of a taken name: `report (1).pdf`, `report (2).pdf`, … (n ≥ 1),
 * kept within `maxBytes` like {@link safeFileName}.
 */
export function numberedFileName(name: string, n: number, maxBytes = MAX_SAVED_NAME_BYTES): string {
  const { stem, ext } = splitExtension(name);
  const suffix = ` (${n})${ext}`;
  return `${cutUtf8(stem, Math.max(1, maxBytes - utf8Length(suffix)))}${suffix}`;
}

/**
 * A short form of a peer-supplied file name for display (the descriptor's name, before it
 * is saved): the same filtering as {@link safeFileName}, cut to `maxChars` with an ellipsis.
 */
export function displayFileName(name: string, maxChars = 80): string {
  const safe = safeFileName(name, 4 * maxChars);
  const chars = Array.from(safe);
  return chars.length <= maxChars ? safe : `${chars.slice(0, maxChars - 1).join('')}…`;
}

/** `2.3 MB`, `512 B`, `1.0 GB` (decimal units, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
