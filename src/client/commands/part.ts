import { nameKey } from '../../protocol/index.js';
import { noRest, optionalRoom } from './args.js';
import { defineCommand } from './command.js';
import { roomOf } from './conversation.js';

/** `/part [#room]`. */
export const partCommand = defineCommand<{ room?: string }>({
  name: 'part',
  group: 'rooms',
  aliases: ['leave'],
  usage: '/part [#room]',
  help: 'leave a room (members rotate their keys: you cannot read what follows)',
  firstArg: 'room',
  requires: 'identity',
  parse: (args) => noRest(optionalRoom(args)),
  run(args, context) {
    const room = roomOf(context, args.room);
    if (room === undefined) return;
    context.client.rooms.part(room);
    const target = context.conversations.target;
    if (target !== undefined && nameKey(target) === nameKey(room))
      context.conversations.setTarget(undefined);
  },
});
