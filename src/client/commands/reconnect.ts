import { noArgs } from './args.js';
import { defineCommand } from './command.js';

/** `/reconnect`: now, not after the backoff. */
export const reconnectCommand = defineCommand({
  name: 'reconnect',
  group: 'session',
  aliases: [],
  usage: '/reconnect',
  help: 'reconnect to the server now instead of waiting',
  firstArg: 'none',
  parse: noArgs,
  run(_args, { client, screen }) {
    screen.notice('info', 'reconnecting…');
    client.reconnect();
  },
});
