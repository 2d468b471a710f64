import { someText } from './args.js';
import { defineCommand } from './command.js';
import { currentTarget, sendText } from './conversation.js';

/** `/me <action>`: an action in the current conversation. */
export const meCommand = defineCommand<{ text: string }>({
  name: 'me',
  group: 'direct',
  aliases: [],
  usage: '/me <action>',
  help: 'send an action to the current conversation, shown as "* you <action>"',
  firstArg: 'text',
  parse: (args) => someText(args, 'an action'),
  run({ text }, context) {
    const target = currentTarget(context, 'use /query <user> first');
    if (target !== undefined) sendText(context, target, text, true);
  },
});
