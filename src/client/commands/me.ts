import { someText } from './args.js';
import { defineCommand } from './command.js';
import { sendText } from './conversation.js';

/** `/me <action>`: an action in the current conversation. */
export const meCommand = defineCommand<{ text: string }>({
  name: 'me',
  aliases: [],
  usage: '/me <action>',
  help: 'send an action to the current conversation, shown as "* you <action>"',
  firstArg: 'text',
  parse: (args) => someText(args, 'an action'),
  run({ text }, context) {
    const target = context.conversations.target;
    if (target === undefined) {
      context.screen.notice(
        'error',
        'no conversation selected: use /query <user> first',
        'E_NO_TARGET',
      );
      return;
    }
    sendText(context, target, text, true);
  },
});
