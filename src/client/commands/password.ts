import { roomAndRest } from './args.js';
import { defineCommand } from './command.js';
import { roomOf } from './conversation.js';

/** `/password [#room] [new password]`: absent or empty clears it. */
export const passwordCommand = defineCommand<{ room?: string; password?: string }>({
  name: 'password',
  aliases: ['pass'],
  usage: '/password [#room] [new password]',
  help: "set a room's password (empty to clear it); stored only as an argon2id hash",
  firstArg: 'room',
  requires: 'identity',
  parse: (args) => roomAndRest(args, 'password'),
  run(args, context) {
    const room = roomOf(context, args.room);
    if (room !== undefined) context.client.rooms.setPassword(room, args.password);
  },
});
