import { roomAndRest } from './args.js';
import { defineCommand } from './command.js';
import { roomOf } from './conversation.js';

/** `/topic [#room] [text]`. */
export const topicCommand = defineCommand<{ room?: string; text?: string }>({
  name: 'topic',
  aliases: [],
  usage: '/topic [#room] [text]',
  help: "show a room's topic, or set it (operators)",
  firstArg: 'room',
  requires: 'identity',
  parse: (args) => roomAndRest(args, 'text'),
  run(args, context) {
    const room = roomOf(context, args.room);
    if (room !== undefined) context.client.rooms.topic(room, args.text);
  },
});
