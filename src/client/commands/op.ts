import { moderationCommand } from './moderation.js';

/** `/op [#room] <user>`. */
export const opCommand = moderationCommand({
  name: 'op',
  usage: '/op [#room] <user>',
  help: 'make a member an operator (owners and operators)',
});
