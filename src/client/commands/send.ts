import { checkTarget, firstWord } from './args.js';
import { defineCommand } from './command.js';
import { report, transfersOf } from './transfer-commands.js';

/** `/send <user|#room> <path>`: an end-to-end encrypted file. */
export const sendCommand = defineCommand<{ target: string; path: string }>({
  name: 'send',
  group: 'direct',
  aliases: ['file'],
  usage: '/send <user|#room> <path>',
  help: 'send a file, end-to-end encrypted (the recipient accepts it with /accept)',
  details:
    'The file is encrypted here in chunks under a fresh key and uploaded; the key and its digest travel inside the encrypted message. A room file goes to the members present now.',
  firstArg: 'user',
  requires: 'identity',
  parse(args) {
    const first = firstWord(args, checkTarget);
    if ('error' in first) return first;
    if (first.rest === '') return { error: 'a file path is required' };
    return { target: first.word, path: first.rest.replace(/\s+$/, '') };
  },
  run({ target, path }, context) {
    const transfers = transfersOf(context);
    if (transfers) report(context, transfers.send(target, path));
  },
});
