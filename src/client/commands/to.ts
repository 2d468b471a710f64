import { checkTarget, firstWord, someText } from './args.js';
import { defineCommand } from './command.js';
import { sendText } from './conversation.js';

/** `/to <user|#room> <text>`: one message, without changing the conversation. */
export const toCommand = defineCommand<{ user: string; text: string }>({
  name: 'to',
  group: 'direct',
  aliases: ['msg'],
  usage: '/to <user|#room> <text>',
  help: 'send an end-to-end encrypted message to one user or a room',
  firstArg: 'user',
  parse(args) {
    const first = firstWord(args, checkTarget);
    if ('error' in first) return first;
    const body = someText(first.rest, 'a message');
    return 'error' in body ? body : { user: first.word, text: body.text };
  },
  run: ({ user, text }, context) => sendText(context, user, text, false),
});
