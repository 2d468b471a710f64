import { moderationCommand } from './moderation.js';

/** `/deop [#room] <user>`. */
export const deopCommand = moderationCommand({
  name: 'deop',
  usage: '/deop [#room] <user>',
  help: "remove a member's operator role",
});
