import { isValidRoom } from '../../protocol/index.js';
import { notARoom, splitWord } from './args.js';
import { defineCommand } from './command.js';

/** `/join <#room> [password]`. */
export const joinCommand = defineCommand<{ room: string; password?: string }>({
  name: 'join',
  group: 'rooms',
  aliases: ['j'],
  usage: '/join <#room> [password]',
  help: 'join a room (created, with you as owner, if it does not exist)',
  firstArg: 'room',
  requires: 'identity',
  parse(args) {
    const { word, rest } = splitWord(args);
    if (!isValidRoom(word)) return notARoom(word);
    return rest === '' ? { room: word } : { room: word, password: rest };
  },
  run({ room, password }, { client, conversations }) {
    client.rooms.join(room, password);
    conversations.joined(room);
  },
});
