/**
 * The slash commands of the terminal client: names, aliases, usage, one-line help and the
 * parsing of each command's arguments into typed values. Parsing only checks shape (user
 * names with the protocol's `isValidName`, safety numbers with `normalizeSafetyNumber`);
 * whether a user is online, or a conversation selected, is for the client to decide.
 */
import { normalizeSafetyNumber } from '../../protocol/index.js';
import {
  checkTarget,
  checkUser,
  echo,
  noArgs,
  oneUser,
  someText,
  spec,
  splitWord,
} from './args.js';
import { ROOM_COMMANDS } from './room-commands.js';

export { splitWord } from './args.js';

/** Arguments of each command after parsing. */
export interface CommandArgs {
  list: { room?: string };
  fp: { user: string };
  to: { user: string; text: string };
  query: { user?: string };
  me: { text: string };
  server: { text: string };
  clear: Record<never, never>;
  help: { topic?: CommandName };
  quit: Record<never, never>;
  ignore: { user: string };
  unignore: { user: string };
  trust: { user: string } | { server: true };
  /** `safetyNumber`: the 60 digits typed, spaces and dashes removed. */
  verify: { user: string; safetyNumber?: string };
  reconnect: Record<never, never>;
  join: { room: string; password?: string };
  part: { room?: string };
  /** `after`: the room the previous page ended with. */
  rooms: { after?: string };
  topic: { room?: string; text?: string };
  op: { room?: string; user: string };
  deop: { room?: string; user: string };
  kick: { room?: string; user: string; reason?: string };
  /** `duration` in seconds; absent = permanent. */
  ban: { room?: string; user: string; duration?: number; reason?: string };
  unban: { room?: string; user: string };
  /** `password` absent or empty clears it. */
  password: { room?: string; password?: string };
  motd: { text?: string };
}
export type CommandName = keyof CommandArgs;

/** A parsed command: `{ name: 'to', user: 'bob', text: 'hi' }`. */
export type Command = { [K in CommandName]: { name: K } & CommandArgs[K] }[CommandName];

/** What a command's first argument is: drives completion. */
export type FirstArg = 'none' | 'user' | 'command' | 'room' | 'text';

/** A failed argument parse: `error` says what is wrong, the usage line is added by parse. */
export interface ArgError {
  error: string;
}

export interface CommandSpec<K extends CommandName = CommandName> {
  readonly name: K;
  readonly aliases: readonly string[];
  /** e.g. `/to <user> <text>`. */
  readonly usage: string;
  /** One line, lower case, no final full stop. */
  readonly help: string;
  /** Optional extra lines for `/help <command>`. */
  readonly details?: string;
  readonly firstArg: FirstArg;
  /** `args` is everything after the command word, leading whitespace removed. */
  parse(args: string): CommandArgs[K] | ArgError;
}

/** Finds a command by name or alias, case-insensitively, with or without a leading `/`. */
export function findCommand(word: string): CommandSpec | undefined {
  const key = (word.startsWith('/') ? word.slice(1) : word).toLowerCase();
  return BY_NAME.get(key);
}

/** Every command, in the order `/help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  spec({
    name: 'to',
    aliases: ['msg'],
    usage: '/to <user|#room> <text>',
    help: 'send an end-to-end encrypted message to one user or a room',
    firstArg: 'user',
    parse(args) {
      const { word, rest } = splitWord(args);
      const bad = checkTarget(word);
      if (bad) return bad;
      const body = someText(rest, 'a message');
      return 'error' in body ? body : { user: word, text: body.text };
    },
  }),
  spec({
    name: 'query',
    aliases: ['q'],
    usage: '/query [user|#room]',
    help: 'send plain lines to <user> or <#room> from now on; without one, stop',
    firstArg: 'user',
    parse(args) {
      if (args.trim() === '') return {};
      const { word, rest } = splitWord(args);
      const bad = checkTarget(word);
      if (bad) return bad;
      return rest === '' ? { user: word } : { error: 'this command takes one user or room' };
    },
  }),
  spec({
    name: 'me',
    aliases: [],
    usage: '/me <action>',
    help: 'send an action to the current conversation, shown as "* you <action>"',
    firstArg: 'text',
    parse: (args) => someText(args, 'an action'),
  }),
  spec({
    name: 'list',
    aliases: ['who'],
    usage: '/list [#room]',
    help: 'show who is online, with key fingerprints and trust status',
    firstArg: 'room',
    parse(args) {
      const { word, rest } = splitWord(args);
      if (word === '') return {};
      if (rest !== '') return { error: 'this command takes at most one #room' };
      if (!checkTarget(word) && word.startsWith('#')) return { room: word };
      return { error: `"${echo(word)}" is not a room: rooms look like #name` };
    },
  }),
  spec({
    name: 'fp',
    aliases: [],
    usage: '/fp <user>',
    help: "show a user's key fingerprint (yours too), to compare out of band",
    firstArg: 'user',
    parse: oneUser,
  }),
  spec({
    name: 'verify',
    aliases: [],
    usage: '/verify <user> [number]',
    help: 'show the safety number with a user; with the number they read you, mark them verified',
    details:
      'The safety number has 60 digits. Type it as shown (12 groups of 5) or without spaces.',
    firstArg: 'user',
    parse(args) {
      const { word, rest } = splitWord(args);
      const bad = checkUser(word);
      if (bad) return bad;
      if (rest.trim() === '') return { user: word };
      const safetyNumber = normalizeSafetyNumber(rest);
      if (safetyNumber === undefined) {
        return { error: 'a safety number has 60 digits (12 groups of 5)' };
      }
      return { user: word, safetyNumber };
    },
  }),
  spec({
    name: 'trust',
    aliases: [],
    usage: '/trust <user> | /trust --server',
    help: "accept a user's changed key or downgrade after checking it (/verify first)",
    details:
      'A user whose identity key changed, who now offers less than before (v1, no identity, no\n' +
      'forward secrecy: a downgrade), or whose key does not match an invite is blocked both ways.\n' +
      '/trust <user> accepts what they offer now; for a downgrade it says what is lost and\n' +
      'records the lower level. /trust --server accepts a server that stopped offering forward\n' +
      'secrecy (ratchet) for everyone on it.',
    firstArg: 'user',
    parse: (args) => (args.trim() === '--server' ? { server: true } : oneUser(args)),
  }),
  spec({
    name: 'server',
    aliases: [],
    usage: '/server <text>',
    help: 'send text to the server: NOT end-to-end encrypted, the server can read it',
    firstArg: 'text',
    parse: (args) => someText(args, 'some text'),
  }),
  spec({
    name: 'ignore',
    aliases: [],
    usage: '/ignore <user>',
    help: 'hide messages and actions from a user',
    firstArg: 'user',
    parse: oneUser,
  }),
  spec({
    name: 'unignore',
    aliases: [],
    usage: '/unignore <user>',
    help: 'show messages from an ignored user again',
    firstArg: 'user',
    parse: oneUser,
  }),
  spec({
    name: 'reconnect',
    aliases: [],
    usage: '/reconnect',
    help: 'reconnect to the server now instead of waiting',
    firstArg: 'none',
    parse: noArgs,
  }),
  spec({
    name: 'clear',
    aliases: [],
    usage: '/clear',
    help: 'clear the screen',
    firstArg: 'none',
    parse: noArgs,
  }),
  spec({
    name: 'help',
    aliases: [],
    usage: '/help [command]',
    help: 'list the commands, or explain one',
    firstArg: 'command',
    parse(args) {
      const { word, rest } = splitWord(args);
      if (word === '') return {};
      if (rest !== '') return { error: 'this command takes at most one command name' };
      const found = findCommand(word);
      if (found) return { topic: found.name };
      const close = suggestCommand(word);
      return {
        error: `unknown command "${echo(word)}"${close ? `; did you mean /${close}?` : ''}`,
      };
    },
  }),
  spec({
    name: 'quit',
    aliases: ['exit'],
    usage: '/quit',
    help: 'disconnect and leave',
    firstArg: 'none',
    parse: noArgs,
  }),
  ...ROOM_COMMANDS,
];

const BY_NAME: ReadonlyMap<string, CommandSpec> = new Map(
  COMMANDS.flatMap((command) => [command.name, ...command.aliases].map((n) => [n, command])),
);

/** Every name and alias (without `/`), sorted. */
export function commandWords(): string[] {
  return [...BY_NAME.keys()].sort();
}

/**
 * The known command word closest to `typed` (without `/`), or undefined when nothing is
 * close: a command that starts with it, else the smallest edit distance (a swap of two
 * neighbours counts once) within 1 for words up to 4 letters and 2 beyond.
 */
export function suggestCommand(typed: string): string | undefined {
  const word = (typed.startsWith('/') ? typed.slice(1) : typed).toLowerCase().slice(0, 32);
  if (word === '') return undefined;
  const words = commandWords();
  const prefixed = words.find((candidate) => candidate.startsWith(word));
  if (prefixed) return prefixed;
  const limit = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of words) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance && distance < word.length) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1]!;
}
