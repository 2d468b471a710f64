import { defineCommand } from './command.js';
import { optionalTransferId, report, transfersOf } from './transfer-commands.js';

/** `/cancel [id]`: stop a transfer. */
export const cancelCommand = defineCommand<{ id?: string }>({
  name: 'cancel',
  group: 'direct',
  aliases: [],
  usage: '/cancel [id]',
  help: 'stop a file transfer (an upload is withdrawn from the server, a download deleted)',
  firstArg: 'none',
  requires: 'identity',
  parse: optionalTransferId,
  run({ id }, context) {
    const transfers = transfersOf(context);
    if (transfers) report(context, transfers.cancel(id));
  },
});
