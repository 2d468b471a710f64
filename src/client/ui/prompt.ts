/**
 * The input prompt: current conversation, connection state when it is not plain
 * "connected", and unread counts for the other conversations, irssi's activity list in
 * one line:
 *
 *   [bob] >
 *   [#room] (reconnecting 3s) +2 carol +1 dave >
 *   [no target] (offline) >
 *   [status] +1 bob >          (a terminal's status window)
 *
 * Names come from peers, so they are sanitized like everything else on screen.
 */
import { foldName } from '../../protocol/index.js';
import type { ConnectionState } from '../events.js';
import { sanitizeName } from './sanitize.js';
import { chalkFor, nickColor } from './theme.js';

export interface PromptState {
  /** Current conversation: a user name or `#room`; undefined when none is selected. */
  target?: string;
  /** With no target, the terminal's status window is active: shown as `[status]`. */
  statusWindow?: boolean;
  connection: ConnectionState;
  /** Unread message counts by conversation; the current target and zeros are skipped. */
  unread?: ReadonlyMap<string, number> | Readonly<Record<string, number>>;
  /** Unread room lines naming us, by conversation: shown as `(@N)`. */
  highlights?: ReadonlyMap<string, number>;
  /** Colour the prompt (chalk level 1). Default false. */
  color?: boolean;
  /** Show at most this many unread conversations, then `+N more`. Default 4. */
  maxUnread?: number;
}

/** Whole seconds, rounded up, e.g. `3s`. */
export function seconds(ms: number): string {
  return `${Number.isFinite(ms) ? Math.max(0, Math.ceil(ms / 1000)) : 0}s`;
}

/** Text shown after the target for each connection state (empty when connected). */
export function connectionBadge(connection: ConnectionState): string {
  switch (connection.state) {
    case 'connected':
      return '';
    case 'connecting':
      return '(connecting)';
    case 'reconnecting':
      return `(reconnecting ${seconds(connection.inMs)})`;
    case 'closed':
      return '(offline)';
    default:
      return '(?)';
  }
}

function unreadEntries(unread: PromptState['unread']): Array<[string, number]> {
  if (unread === undefined) return [];
  return unread instanceof Map ? [...unread.entries()] : Object.entries(unread);
}

/** The prompt string, ending with `> `. Never contains a line break. */
export function formatPrompt(state: PromptState): string {
  const c = chalkFor(state.color === true);
  const parts: string[] = [];
  parts.push(
    state.target !== undefined
      ? `[${targetLabel(state.target)}]`
      : state.statusWindow
        ? c.gray('[status]')
        : c.gray('[no target]'),
  );

  const badge = connectionBadge(state.connection);
  if (badge !== '') {
    parts.push(state.connection.state === 'closed' ? c.red(badge) : c.yellow(badge));
  }

  const current = state.target === undefined ? undefined : foldName(state.target);
  const waiting = unreadEntries(state.unread)
    .filter(
      ([name, count]) => count > 0 && Number.isFinite(count) && name.toLowerCase() !== current,
    )
    .sort(([a], [b]) => compareNames(a, b));
  const limit = Math.max(0, state.maxUnread ?? 4);
  for (const [name, count] of waiting.slice(0, limit)) {
    const label = sanitizeName(name);
    const calls = state.highlights?.get(name.toLowerCase()) ?? 0;
    const mark = calls > 0 ? c.yellow.bold(` (@${Math.floor(calls)})`) : '';
    parts.push(`+${Math.floor(count)} ${c[nickColor(name)](label)}${mark}`);
  }
  if (waiting.length > limit) parts.push(c.gray(`+${waiting.length - limit} more`));
  return `${parts.join(' ')} > `;
}

function targetLabel(target: string): string {
  if (!target.startsWith('#')) return sanitizeName(target);
  const room = `#${sanitizeName(target.slice(1))}`;
  // The lobby is where everyone is: say so where the line is typed.
  return foldName(target) === '#lobby' ? `${room} (public)` : room;
}

/** Case-insensitive, then by code unit so the order is total and stable. */
export function compareNames(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
