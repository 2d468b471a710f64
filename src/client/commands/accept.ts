import { defineCommand } from './command.js';
import { optionalTransferId, report, transfersOf } from './transfer-commands.js';

/** `/accept [id]`: download a file offered to us. */
export const acceptCommand = defineCommand<{ id?: string }>({
  name: 'accept',
  group: 'direct',
  aliases: [],
  usage: '/accept [id]',
  help: 'download a file offered to you (the latest offer without an id)',
  firstArg: 'none',
  requires: 'identity',
  parse: optionalTransferId,
  run({ id }, context) {
    const transfers = transfersOf(context);
    if (transfers) report(context, transfers.accept(id));
  },
});
