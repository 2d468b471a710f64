import { defineCommand } from './command.js';
import { optionalTransferId, report, transfersOf } from './transfer-commands.js';

/** `/reject [id]`: decline a file offered to us. */
export const rejectCommand = defineCommand<{ id?: string }>({
  name: 'reject',
  group: 'direct',
  aliases: ['decline'],
  usage: '/reject [id]',
  help: 'decline a file offered to you (the latest offer without an id)',
  firstArg: 'none',
  requires: 'identity',
  parse: optionalTransferId,
  run({ id }, context) {
    const transfers = transfersOf(context);
    if (transfers) report(context, transfers.reject(id));
  },
});
