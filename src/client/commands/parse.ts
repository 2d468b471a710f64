/**
 * Turns one line of input into what the client should do with it:
 *
 * - a plain line is text for the current conversation; `//text` sends `/text` literally;
 * - `/name args` is a command, looked up by name or alias case-insensitively, its
 *   arguments parsed into named fields by the command's own parser;
 * - anything else is `invalid`, with an error, the usage line and, for an unknown
 *   command, the closest known one.
 *
 * A line of only whitespace is `empty`: nothing to send.
 */
import { splitWord } from './args.js';
import type { CommandTable } from './command.js';
import { COMMAND_TABLE } from './table.js';

/** A command and its parsed arguments: `{ kind: 'command', name: 'to', user: 'bob', text: 'hi' }`. */
export type ParsedCommand = { kind: 'command'; name: string } & Record<string, unknown>;

export type ParsedInput =
  | { kind: 'empty' }
  | { kind: 'text'; text: string }
  | ParsedCommand
  | { kind: 'invalid'; error: string; usage?: string; suggestion?: string };

/** Longest command word echoed back in an error. */
const MAX_ECHOED_COMMAND = 32;

/** Parses one input line (without its line terminator). */
export function parseInput(line: string, commands: CommandTable = COMMAND_TABLE): ParsedInput {
  if (line.trim() === '') return { kind: 'empty' };
  if (!line.startsWith('/')) return { kind: 'text', text: line };
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) };

  const { word, rest } = splitWord(line.slice(1));
  if (word === '' || /^\s/.test(line.slice(1))) {
    return { kind: 'invalid', error: 'a command name must follow "/" (try /help)' };
  }
  const command = commands.find(word);
  if (!command) {
    const shown = word.length > MAX_ECHOED_COMMAND ? `${word.slice(0, MAX_ECHOED_COMMAND)}…` : word;
    const suggestion = commands.suggest(word);
    if (suggestion === undefined) {
      return { kind: 'invalid', error: `unknown command /${shown} (see /help)` };
    }
    return {
      kind: 'invalid',
      error: `unknown command /${shown}; did you mean /${suggestion}?`,
      usage: commands.find(suggestion)?.usage ?? `/${suggestion}`,
      suggestion: `/${suggestion}`,
    };
  }
  const args = command.parse(rest, commands);
  if ('error' in args) {
    return {
      kind: 'invalid',
      error: `/${word.toLowerCase()}: ${args.error}`,
      usage: command.usage,
    };
  }
  return { kind: 'command', name: command.name, ...args };
}
