/**
 * Turns one line of input into what the client should do with it:
 *
 * - a plain line is text for the current conversation; `//text` sends `/text` literally;
 * - `/name args` is a command, looked up by name or alias case-insensitively, its
 *   arguments parsed into typed fields by the registry;
 * - anything else is `invalid`, with an error, the usage line and, for an unknown
 *   command, the closest known one.
 *
 * A line of only whitespace is `empty`: nothing to send.
 */
import {
  type CommandArgs,
  type CommandName,
  findCommand,
  splitWord,
  suggestCommand,
} from './registry.js';

export type ParsedCommand = {
  [K in CommandName]: { kind: 'command'; name: K } & CommandArgs[K];
}[CommandName];

export type ParsedInput =
  | { kind: 'empty' }
  | { kind: 'text'; text: string }
  | ParsedCommand
  | { kind: 'invalid'; error: string; usage?: string; suggestion?: string };

/** Longest command word echoed back in an error. */
const MAX_ECHOED_COMMAND = 32;

/** Parses one input line (without its line terminator). */
export function parseInput(line: string): ParsedInput {
  if (line.trim() === '') return { kind: 'empty' };
  if (!line.startsWith('/')) return { kind: 'text', text: line };
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) };

  const { word, rest } = splitWord(line.slice(1));
  if (word === '' || /^\s/.test(line.slice(1))) {
    return { kind: 'invalid', error: 'a command name must follow "/" (try /help)' };
  }
  const command = findCommand(word);
  if (!command) {
    const shown = word.length > MAX_ECHOED_COMMAND ? `${word.slice(0, MAX_ECHOED_COMMAND)}…` : word;
    const suggestion = suggestCommand(word);
    if (suggestion === undefined) {
      return { kind: 'invalid', error: `unknown command /${shown} (see /help)` };
    }
    return {
      kind: 'invalid',
      error: `unknown command /${shown}; did you mean /${suggestion}?`,
      usage: findCommand(suggestion)?.usage ?? `/${suggestion}`,
      suggestion: `/${suggestion}`,
    };
  }
  const args = command.parse(rest);
  if ('error' in args) {
    return {
      kind: 'invalid',
      error: `/${word.toLowerCase()}: ${args.error}`,
      usage: command.usage,
    };
  }
  return { kind: 'command', name: command.name, ...args } as ParsedCommand;
}
