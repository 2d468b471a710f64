import { echo, splitWord } from './args.js';
import { defineCommand } from './command.js';
import { helpText } from './help-text.js';

/** `/help [command]`. */
export const helpCommand = defineCommand<{ topic?: string }>({
  name: 'help',
  group: 'session',
  aliases: [],
  usage: '/help [command]',
  help: 'list the commands, or explain one',
  firstArg: 'command',
  parse(args, commands) {
    const { word, rest } = splitWord(args);
    if (word === '') return {};
    if (rest !== '') return { error: 'this command takes at most one command name' };
    const found = commands.find(word);
    if (found) return { topic: found.name };
    const close = commands.suggest(word);
    return {
      error: `unknown command "${echo(word)}"${close ? `; did you mean /${close}?` : ''}`,
    };
  },
  run: ({ topic }, { commands, screen }) => screen.notice('info', helpText(commands, topic)),
});
