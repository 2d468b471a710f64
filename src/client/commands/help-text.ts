/** The text of `/help`: every command with its aliases, or one command in detail. */
import type { Command, CommandGroup, CommandTable } from './command.js';

const USAGE_COLUMN = 26;

function aliasNote(command: Command): string {
  if (command.aliases.length === 0) return '';
  const names = command.aliases.map((alias) => `/${alias}`).join(', ');
  return ` (alias ${names})`;
}

function summaryLine(command: Command): string {
  return `  ${command.usage.padEnd(USAGE_COLUMN)}${command.help}${aliasNote(command)}`;
}

const GROUPS: ReadonlyArray<[CommandGroup, string]> = [
  ['direct', 'Direct messages (end-to-end encrypted):'],
  ['rooms', 'Rooms (end-to-end encrypted; everyone starts in the public #lobby):'],
  ['trust', 'Trust (who is who):'],
  ['session', 'Session:'],
];

/** Text shown by `/help` (no argument): every command, by group. */
export function fullHelp(commands: CommandTable): string {
  const sections = GROUPS.flatMap(([group, title]) => {
    const members = commands.all.filter((command) => command.group === group);
    return members.length === 0 ? [] : [title, ...members.map(summaryLine), ''];
  });
  return [
    ...sections,
    'A line without "/" goes to the active window (shown in the prompt): at start the',
    'public #lobby; /query <user|#room> or /window N changes it.',
    'Start a line with "//" to send text that begins with "/".',
    'Tab completes commands, user names and #rooms. /help <command> explains one.',
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
