import { noArgs } from './args.js';
import { defineCommand } from './command.js';

/** `/clear`. */
export const clearCommand = defineCommand({
  name: 'clear',
  group: 'session',
  aliases: [],
  usage: '/clear',
  help: 'clear the screen',
  firstArg: 'none',
  parse: noArgs,
  run: (_args, context) => context.clear(),
});
