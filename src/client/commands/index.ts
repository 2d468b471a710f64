export { fullHelp, helpText } from './help.js';
export { type ParsedCommand, type ParsedInput, parseInput } from './parse.js';
export {
  type ArgError,
  COMMANDS,
  type Command,
  type CommandArgs,
  type CommandName,
  type CommandSpec,
  commandWords,
  editDistance,
  type FirstArg,
  findCommand,
  splitWord,
  suggestCommand,
} from './registry.js';
