import { checkTarget, firstWord } from './args.js';
import { defineCommand } from './command.js';

/** `/query [user|#room]`: where plain lines go from now on. */
export const queryCommand = defineCommand<{ user?: string }>({
  name: 'query',
  group: 'direct',
  aliases: ['q'],
  usage: '/query [user|#room]',
  help: 'send plain lines to <user> or <#room> from now on; without one, stop',
  firstArg: 'user',
  parse(args) {
    if (args.trim() === '') return {};
    const first = firstWord(args, checkTarget);
    if ('error' in first) return first;
    return first.rest === ''
      ? { user: first.word }
      : { error: 'this command takes one user or room' };
  },
  run({ user }, { client, conversations, screen }) {
    conversations.setTarget(user);
    if (user === undefined) {
      screen.notice('info', 'no conversation selected');
      return;
    }
    conversations.markRead(user);
    const room = user.startsWith('#');
    const present = room ? client.rooms.isMember(user) : client.peers.get(user) !== undefined;
    const where = room ? ' (you are not in it: /join first)' : ' (not online right now)';
    screen.notice('info', `now talking to ${user}${present ? '' : where}`);
  },
});
