import { checkTarget, notARoom, splitWord } from './args.js';
import { defineCommand } from './command.js';

/** `/list [#room]`: who is online (or in a room), with fingerprints and trust status. */
export const listCommand = defineCommand<{ room?: string }>({
  name: 'list',
  group: 'direct',
  aliases: ['who'],
  usage: '/list [#room]',
  help: 'show who is online, with key fingerprints and trust status',
  firstArg: 'room',
  parse(args) {
    const { word, rest } = splitWord(args);
    if (word === '') return {};
    if (rest !== '') return { error: 'this command takes at most one #room' };
    if (!checkTarget(word) && word.startsWith('#')) return { room: word };
    return notARoom(word);
  },
  run({ room }, { client, screen }) {
    if (room) {
      client.rooms.who(room);
      return;
    }
    // Offline, the directory as last seen.
    if (!client.requestList()) screen.event({ kind: 'users', users: client.peerSummaries() });
  },
});
