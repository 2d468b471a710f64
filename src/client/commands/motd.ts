import { defineCommand } from './command.js';

/** `/motd [text]`. */
export const motdCommand = defineCommand<{ text?: string }>({
  name: 'motd',
  group: 'rooms',
  aliases: [],
  usage: '/motd [text]',
  help: 'show the message of the day, or set it (server administrators)',
  firstArg: 'text',
  requires: 'identity',
  parse: (args) => (args.trim() === '' ? {} : { text: args.trim() }),
  run: ({ text }, { client }) => void client.rooms.motd(text),
});
