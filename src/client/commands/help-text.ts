/** The text of `/help`: every command with its aliases, or one command in detail. */
import type { Command, CommandTable } from './command.js';

const USAGE_COLUMN = 26;

function aliasNote(command: Command): string {
  if (command.aliases.length === 0) return '';
  const names = command.aliases.map((alias) => `/${alias}`).join(', ');
  return ` (alias ${names})`;
}

function summaryLine(command: Command): string {
  return `  ${command.usage.padEnd(USAGE_COLUMN)}${command.help}${aliasNote(command)}`;
}

/** Text shown by `/help` (no argument). */
export function fullHelp(commands: CommandTable): string {
  return [
    'Commands:',
    ...commands.all.map(summaryLine),
    '',
    'A line without "/" goes to the current conversation (see /query).',
    'Start a line with "//" to send text that begins with "/".',
    'Tab completes commands and user names.',
  ].join('\n');
}

/**
 * Help for `command` (a name or alias, with or without `/`), or the full help when none
 * is given. An unknown command gets a short note and the closest known command.
 */
export function helpText(commands: CommandTable, command?: string): string {
  if (command === undefined || command.trim() === '') return fullHelp(commands);
  const spec = commands.find(command.trim());
  if (!spec) {
    const close = commands.suggest(command.trim());
    const hint = close === undefined ? '' : ` Did you mean /${close}?`;
    return `No such command.${hint} Type /help for the list.`;
  }
  const lines = [`${spec.usage}${aliasNote(spec)}`, `  ${spec.help}`];
  if (spec.details) lines.push(`  ${spec.details}`);
  return lines.join('\n');
}
