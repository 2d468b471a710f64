import { roomUser } from './args.js';
import { moderationCommand } from './moderation.js';

/** `/kick [#room] <user> [reason]`: they may rejoin. */
export const kickCommand = moderationCommand({
  name: 'kick',
  usage: '/kick [#room] <user> [reason]',
  help: 'remove a member from a room (they may rejoin)',
  parse(args) {
    const parsed = roomUser(args);
    if ('error' in parsed) return parsed;
    const { rest, ...value } = parsed;
    return rest ? { ...value, reason: rest } : value;
  },
});
