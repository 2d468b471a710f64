import { fullHelp as fullHelpFor, helpText as helpTextFor } from './help-text.js';
import { COMMAND_TABLE } from './table.js';

export {
  type ArgError,
  type Command,
  type CommandContext,
  type CommandTable,
  type Conversations,
  defineCommand,
  type FirstArg,
} from './command.js';
export { runInput } from './execute.js';
export { commandTable, editDistance } from './lookup.js';
export { type ParsedCommand, type ParsedInput, parseInput } from './parse.js';
export { COMMAND_TABLE, COMMANDS } from './table.js';

/** The closest command word to `typed` (without `/`), if any is close. */
export const suggestCommand = (typed: string): string | undefined => COMMAND_TABLE.suggest(typed);
/** `/help` of the client's commands. */
export const fullHelp = (): string => fullHelpFor(COMMAND_TABLE);
/** `/help <command>` of the client's commands. */
export const helpText = (command?: string): string => helpTextFor(COMMAND_TABLE, command);
