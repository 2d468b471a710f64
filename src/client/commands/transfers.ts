import { noArgs } from './args.js';
import { defineCommand } from './command.js';
import { transfersOf } from './transfer-commands.js';

/** `/transfers`: every file transfer and its state. */
export const transfersCommand = defineCommand<Record<never, never>>({
  name: 'transfers',
  group: 'direct',
  aliases: ['files'],
  usage: '/transfers',
  help: 'list file transfers: offers, uploads and downloads with their ids',
  firstArg: 'none',
  requires: 'identity',
  parse: noArgs,
  run(_args, context) {
    transfersOf(context)?.list();
  },
});
