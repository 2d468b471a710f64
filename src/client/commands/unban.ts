import { moderationCommand } from './moderation.js';

/** `/unban [#room] <user>`. */
export const unbanCommand = moderationCommand({
  name: 'unban',
  usage: '/unban [#room] <user>',
  help: 'lift a ban',
});
