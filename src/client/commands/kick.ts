import { moderationCommand, roomUserThen } from './moderation.js';

/** `/kick [#room] <user> [reason]`: they may rejoin. */
export const kickCommand = moderationCommand({
  name: 'kick',
  usage: '/kick [#room] <user> [reason]',
  help: 'remove a member from a room (they may rejoin)',
  parse: (args) => roomUserThen(args),
});
