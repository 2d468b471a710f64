import { normalizeSafetyNumber } from '../../protocol/index.js';
import { checkUser, firstWord } from './args.js';
import { defineCommand } from './command.js';

/** `/verify <user> [number]`: the safety number, and marking a peer verified. */
export const verifyCommand = defineCommand<{ user: string; safetyNumber?: string }>({
  name: 'verify',
  group: 'trust',
  aliases: [],
  usage: '/verify <user> [number]',
  help: 'show the safety number with a user; with the number they read you, mark them verified',
  details: 'The safety number has 60 digits. Type it as shown (12 groups of 5) or without spaces.',
  firstArg: 'user',
  parse(args) {
    const first = firstWord(args, checkUser);
    if ('error' in first) return first;
    if (first.rest.trim() === '') return { user: first.word };
    // The 60 digits typed, spaces and dashes removed.
    const safetyNumber = normalizeSafetyNumber(first.rest);
    if (safetyNumber === undefined) {
      return { error: 'a safety number has 60 digits (12 groups of 5)' };
    }
    return { user: first.word, safetyNumber };
  },
  run: ({ user, safetyNumber }, { client }) => void client.trust.verify(user, safetyNumber),
});
