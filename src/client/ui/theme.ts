/**
 * Glyphs, protection markers and colours of the terminal UI. Every distinction the UI
 * makes is carried by text first (so it survives `--no-color`, screen readers and copy and
 * paste) and by colour second.
 */

import { Chalk, type ChalkInstance } from 'chalk';
import { nameKey } from '../../protocol/index.js';
import { Protection } from '../events.js';

/** Line-type glyphs, irssi/WeeChat style, all ASCII. */
export const Glyph = {
  info: '-!-',
  warning: '!!!',
  error: 'xxx',
  join: '-->',
  leave: '<--',
  action: '*',
  /** Marks a verified peer beside the name (U+2713, one column). */
  verified: '\u2713',
} as const;

/** Markers put before every message, in front of any peer-controlled text. */
export const ProtectionMarker: Record<Protection, string> = {
  [Protection.ratchet]: '[e2ee]',
  [Protection.pq]: '[e2ee:pq]',
  [Protection.legacy]: '[e2ee:v1 no-fs]',
  [Protection.server]: '[server-readable]',
  [Protection.room]: '[e2ee:room]',
};

/** Extra markers for senders whose key is not in good standing. */
export const KeyMarker = {
  changed: '[KEY CHANGED]',
  invalid: '[BAD KEY SIGNATURE]',
} as const;

/**
 * chalk level 1 (16 colours) works on every terminal; the global chalk is never used so
 * `--no-color`, NO_COLOR and non-TTY output are decided by the caller alone.
 */
const plain = new Chalk({ level: 0 });
const coloured = new Chalk({ level: 1 });

export function chalkFor(color: boolean): ChalkInstance {
  return color ? coloured : plain;
}

/**
 * Nick colours. Reserved elsewhere and therefore absent here: cyan (system lines), yellow
 * (warnings, legacy v1), red (errors, key changes) and the default foreground in bold (our
 * own messages).
 */
export const NICK_PALETTE = [
  'green',
  'magenta',
  'blueBright',
  'greenBright',
  'magentaBright',
  'blue',
] as const;
export type NickColor = (typeof NICK_PALETTE)[number];

/** FNV-1a over the lowercased name: the same nick always gets the same colour. */
export function nickColor(name: string): NickColor {
  let hash = 0x811c9dc5;
  const key = nameKey(name);
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return NICK_PALETTE[hash % NICK_PALETTE.length]!;
}

export interface Styles {
  timestamp(text: string): string;
  info(text: string): string;
  warning(text: string): string;
  error(text: string): string;
  own(text: string): string;
  nick(name: string, text: string): string;
  protection(protection: Protection, text: string): string;
  verified(text: string): string;
  keyAlert(text: string): string;
  dim(text: string): string;
}

export function stylesFor(color: boolean): Styles {
  const c = chalkFor(color);
  return {
    timestamp: (text) => c.gray(text),
    info: (text) => c.cyan(text),
    warning: (text) => c.yellow(text),
    error: (text) => c.red.bold(text),
    own: (text) => c.bold(text),
    nick: (name, text) => c[nickColor(name)](text),
    protection: (protection, text) => {
      if (protection === Protection.ratchet || protection === Protection.pq) return c.green(text);
      if (protection === Protection.legacy) return c.yellow(text);
      // Not end-to-end encrypted: the warning colour, as a block that stands out.
      if (protection === Protection.server) return c.black.bgYellow(text);
      return c.magenta(text);
    },
    verified: (text) => c.green.bold(text),
    keyAlert: (text) => c.red.bold(text),
    dim: (text) => c.gray(text),
  };
}
