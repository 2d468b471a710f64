import { noRest, optionalRoom } from './args.js';
import { defineCommand } from './command.js';

/** `/rooms [#after]`: the server's rooms, a page at a time. */
export const roomsCommand = defineCommand<{ after?: string }>({
  name: 'rooms',
  group: 'rooms',
  aliases: [],
  usage: '/rooms [#after]',
  help: 'list the rooms on this server with member counts (a page at a time: /rooms #last for more)',
  firstArg: 'room',
  requires: 'identity',
  parse(args) {
    const page = noRest(optionalRoom(args));
    if ('error' in page) return page;
    // `after`: the room the previous page ended with.
    return page.room ? { after: page.room } : {};
  },
  run: ({ after }, { client }) => void client.rooms.list(after),
});
