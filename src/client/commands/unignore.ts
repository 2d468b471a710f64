import { oneUser } from './args.js';
import { defineCommand } from './command.js';

/** `/unignore <user>`. */
export const unignoreCommand = defineCommand<{ user: string }>({
  name: 'unignore',
  group: 'direct',
  aliases: [],
  usage: '/unignore <user>',
  help: 'show messages from an ignored user again',
  firstArg: 'user',
  parse: oneUser,
  run: ({ user }, { conversations, screen }) =>
    screen.notice(
      'info',
      conversations.unignore(user) ? `no longer ignoring ${user}` : `${user} was not ignored`,
    ),
});
