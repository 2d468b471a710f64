/**
 * Tab completion for the input line, pure so the terminal can hand it to readline's
 * `completer` (`[candidates, line.slice(replaceFrom, cursor)]`):
 *
 * - `/ve|`            command names and aliases: `/verify `
 * - `/to b|`          a user, where the command's first argument is a user: `bob `
 * - `/help q|`        a command name, for /help: `query `, `quit `, `q `
 * - `b|` (line start) a user to address, irssi style: `bob: `
 * - `hi b|`           a user anywhere else in text: `bob`
 * - `/q #lo|`, `#lo|`  a room (joined, or listed by /rooms): `#lobby `
 *
 * Matching is a case-insensitive prefix match; candidates are sorted case-insensitively
 * (ties by code unit) and de-duplicated, so the same input always gives the same list.
 * Only valid names are offered: a name that fails `isValidName` never reaches the input line.
 */
import { isValidRoom } from '../../protocol/fields.js';
import { isValidName, nameKey } from '../../protocol/index.js';
import { COMMANDS, type FirstArg } from '../commands/index.js';
import { compareNames } from './prompt.js';

export interface CompletionCommand {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly firstArg: FirstArg;
}

export interface CompletionContext {
  /** Names that may be completed (online users, conversations). */
  users: readonly string[];
  /** Rooms that may be completed after `#` (joined, listed by /rooms). */
  rooms?: readonly string[];
  /** Default: the client's command table. */
  commands?: readonly CompletionCommand[];
  /** Our own name, left out of user completions. */
  self?: string;
}

export interface Completion {
  /** Replacements for `line.slice(replaceFrom, cursor)`, sorted; empty when none. */
  candidates: string[];
  replaceFrom: number;
}

const startsWithFold = (value: string, prefix: string) =>
  value.toLowerCase().startsWith(prefix.toLowerCase());

/** Sorted, then one spelling per case-insensitive name (the first in sort order). */
function sortedUnique(values: Iterable<string>): string[] {
  const out: string[] = [];
  for (const value of [...values].sort(compareNames)) {
    const last = out[out.length - 1];
    if (last === undefined || last.toLowerCase() !== value.toLowerCase()) out.push(value);
  }
  return out;
}

function matchingUsers(ctx: CompletionContext, prefix: string): string[] {
  const self = ctx.self === undefined ? undefined : nameKey(ctx.self);
  return sortedUnique(
    ctx.users.filter(
      (user) => isValidName(user) && nameKey(user) !== self && startsWithFold(user, prefix),
    ),
  );
}

function matchingRooms(ctx: CompletionContext, prefix: string): string[] {
  return sortedUnique(
    (ctx.rooms ?? []).filter((room) => isValidRoom(room) && startsWithFold(room, prefix)),
  );
}

function commandWords(commands: readonly CompletionCommand[], prefix: string): string[] {
  const words = commands.flatMap((command) => [command.name, ...command.aliases]);
  return sortedUnique(words.filter((word) => startsWithFold(word, prefix)));
}

/** Index where the word ending at `end` starts (after the last whitespace before it). */
function wordStart(text: string, end: number): number {
  let i = end;
  while (i > 0 && !/\s/.test(text[i - 1]!)) i--;
  return i;
}

/** Candidates for the word before `cursor` in `line`. */
export function complete(line: string, cursor: number, ctx: CompletionContext): Completion {
  const at = Math.max(0, Math.min(Number.isFinite(cursor) ? Math.floor(cursor) : 0, line.length));
  const head = line.slice(0, at);
  const commands = ctx.commands ?? COMMANDS;
  const from = wordStart(head, at);
  const partial = head.slice(from);
  const none: Completion = { candidates: [], replaceFrom: at };

  if (head.startsWith('/') && !head.startsWith('//')) {
    if (from === 0) {
      const words = commandWords(commands, partial.slice(1));
      return { candidates: words.map((word) => `/${word} `), replaceFrom: 0 };
    }
    const name = head.slice(1, head.search(/\s/)).toLowerCase();
    const command = commands.find(
      (c) => c.name.toLowerCase() === name || c.aliases.some((a) => a.toLowerCase() === name),
    );
    const firstArg = /^\/\S+\s+\S*$/.test(head);
    if (partial.startsWith('#')) {
      return { candidates: matchingRooms(ctx, partial).map((r) => `${r} `), replaceFrom: from };
    }
    if (command && firstArg) {
      if (command.firstArg === 'user') {
        return { candidates: matchingUsers(ctx, partial).map((u) => `${u} `), replaceFrom: from };
      }
      if (command.firstArg === 'command') {
        const words = commandWords(commands, partial.replace(/^\//, ''));
        return { candidates: words.map((word) => `${word} `), replaceFrom: from };
      }
      if (command.firstArg !== 'text') return none;
    }
    if (partial === '') return none;
    return { candidates: matchingUsers(ctx, partial), replaceFrom: from };
  }

  if (partial === '') return none;
  if (partial.startsWith('#'))
    return { candidates: matchingRooms(ctx, partial), replaceFrom: from };
  if (from === 0 && !head.startsWith('//')) {
    return { candidates: matchingUsers(ctx, partial).map((u) => `${u}: `), replaceFrom: 0 };
  }
  return { candidates: matchingUsers(ctx, partial), replaceFrom: from };
}
