import { oneUser } from './args.js';
import { defineCommand } from './command.js';

/** `/ignore <user>`: their messages are dropped unseen. */
export const ignoreCommand = defineCommand<{ user: string }>({
  name: 'ignore',
  group: 'direct',
  aliases: [],
  usage: '/ignore <user>',
  help: 'hide messages and actions from a user',
  firstArg: 'user',
  parse: oneUser,
  run({ user }, { conversations, screen }) {
    conversations.ignore(user);
    screen.notice('info', `ignoring ${user} (their messages are dropped unseen until /unignore)`);
  },
});
