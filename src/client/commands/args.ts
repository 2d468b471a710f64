/** Argument parsers the commands share (shape only: see command.ts). */
import { isValidName, isValidRoom, MAX_NAME_LENGTH } from '../../protocol/index.js';
import type { ArgError } from './command.js';

/** Splits off the first whitespace-separated word; `rest` has its leading whitespace removed. */
export function splitWord(input: string): { word: string; rest: string } {
  const trimmed = input.replace(/^\s+/, '');
  const end = trimmed.search(/\s/);
  if (end < 0) return { word: trimmed, rest: '' };
  return { word: trimmed.slice(0, end), rest: trimmed.slice(end).replace(/^\s+/, '') };
}

export const echo = (value: string) => (value.length > 40 ? `${value.slice(0, 40)}…` : value);

export function checkUser(word: string): ArgError | undefined {
  if (word === '') return { error: 'a user name is required' };
  if (isValidName(word)) return undefined;
  return {
    error: `invalid user name "${echo(word)}": use 1-${MAX_NAME_LENGTH} characters of A-Z a-z 0-9 _ . -`,
  };
}

export const noArgs = (args: string): Record<never, never> | ArgError =>
  args.trim() === '' ? {} : { error: 'this command takes no arguments' };

/** The first word, checked by `check` (checkUser or checkTarget), and the rest. */
export function firstWord(
  args: string,
  check: (word: string) => ArgError | undefined,
): { word: string; rest: string } | ArgError {
  const split = splitWord(args);
  return check(split.word) ?? split;
}

export function oneUser(args: string): { user: string } | ArgError {
  const first = firstWord(args, checkUser);
  if ('error' in first) return first;
  if (first.rest !== '') return { error: 'this command takes one user name' };
  return { user: first.word };
}

export function someText(args: string, what: string): { text: string } | ArgError {
  return args.trim() === '' ? { error: `${what} is required` } : { text: args };
}

export const notARoom = (word: string): ArgError => ({
  error: `"${echo(word)}" is not a room: rooms look like #name`,
});

/** A user name or a #room, as the target of /to and /query. */
export function checkTarget(word: string): ArgError | undefined {
  if (word.startsWith('#')) {
    return isValidRoom(word)
      ? undefined
      : { error: `invalid room "${echo(word)}": rooms look like #name` };
  }
  return checkUser(word);
}

/** An optional leading #room (else the current conversation when it is a room). */
export function optionalRoom(args: string): { room?: string; rest: string } | ArgError {
  const { word, rest } = splitWord(args);
  if (!word.startsWith('#')) return { rest: args.trim() };
  if (!isValidRoom(word)) return { error: `invalid room "${echo(word)}": rooms look like #name` };
  return { room: word, rest };
}

/** A parse with nothing left over. */
export function noRest<T extends { rest: string }>(
  parsed: T | ArgError,
): Omit<T, 'rest'> | ArgError {
  if ('error' in parsed) return parsed;
  const { rest, ...value } = parsed;
  return rest === '' ? value : { error: `unexpected "${echo(rest)}"` };
}

/** `[#room] [rest]`, with the rest (if any) under `field`. */
export function roomAndRest<F extends 'text' | 'password'>(
  args: string,
  field: F,
): ({ room?: string } & Partial<Record<F, string>>) | ArgError {
  const room = optionalRoom(args);
  if ('error' in room) return room;
  return {
    ...(room.room ? { room: room.room } : {}),
    ...(room.rest ? { [field]: room.rest } : {}),
  } as { room?: string } & Partial<Record<F, string>>;
}

/** `[#room] <user> [rest]`, as the moderation commands take them. */
export function roomUser(args: string): { room?: string; user: string; rest: string } | ArgError {
  const room = optionalRoom(args);
  if ('error' in room) return room;
  const first = firstWord(room.rest, checkUser);
  if ('error' in first) return first;
  return { ...(room.room ? { room: room.room } : {}), user: first.word, rest: first.rest };
}
