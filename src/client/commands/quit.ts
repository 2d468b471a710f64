import { noArgs } from './args.js';
import { defineCommand } from './command.js';

/** `/quit` (Ctrl-C, Ctrl-D and the end of piped input do the same). */
export const quitCommand = defineCommand({
  name: 'quit',
  group: 'session',
  aliases: ['exit'],
  usage: '/quit',
  help: 'disconnect and leave',
  firstArg: 'none',
  parse: noArgs,
  run: (_args, context) => context.quit(),
});
