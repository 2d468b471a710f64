import { checkTarget, someText, splitWord } from './args.js';
import { defineCommand } from './command.js';
import { sendText } from './conversation.js';

/** `/to <user|#room> <text>`: one message, without changing the conversation. */
export const toCommand = defineCommand<{ user: string; text: string }>({
  name: 'to',
  aliases: ['msg'],
  usage: '/to <user|#room> <text>',
  help: 'send an end-to-end encrypted message to one user or a room',
  firstArg: 'user',
  parse(args) {
    const { word, rest } = splitWord(args);
    const bad = checkTarget(word);
    if (bad) return bad;
    const body = someText(rest, 'a message');
    return 'error' in body ? body : { user: word, text: body.text };
  },
  run: ({ user, text }, context) => sendText(context, user, text, false),
});
