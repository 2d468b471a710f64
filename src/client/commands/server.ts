import { someText } from './args.js';
import { defineCommand } from './command.js';
import { report } from './conversation.js';

/** `/server <text>`: text the server reads (it answers `echo: …`). */
export const serverCommand = defineCommand<{ text: string }>({
  name: 'server',
  group: 'session',
  aliases: [],
  usage: '/server <text>',
  help: 'send text to the server: NOT end-to-end encrypted, the server can read it',
  firstArg: 'text',
  parse: (args) => someText(args, 'some text'),
  run: ({ text }, context) => report(context, context.client.sendServer(text)),
});
