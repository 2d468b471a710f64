import { isValidName, isValidRoom, MAX_NAME_LENGTH } from '../../protocol/index.js';
import type { ArgError, CommandName, CommandSpec } from './registry.js';

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

export function oneUser(args: string): { user: string } | ArgError {
  const { word, rest } = splitWord(args);
  const bad = checkUser(word);
  if (bad) return bad;
  if (rest !== '') return { error: 'this command takes one user name' };
  return { user: word };
}

export function someText(args: string, what: string): { text: string } | ArgError {
  return args.trim() === '' ? { error: `${what} is required` } : { text: args };
}

export function spec<K extends CommandName>(s: CommandSpec<K>): CommandSpec<K> {
  return s;
}

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
