/** Helpers of the file transfer commands (/send, /accept, /reject, /cancel, /transfers). */
import type { ArgError, CommandContext } from './command.js';

/** An optional transfer id: the hex digits `/transfers` shows (a prefix is enough). */
export function optionalTransferId(args: string): { id?: string } | ArgError {
  const word = args.trim();
  if (word === '') return {};
  if (!/^[0-9a-fA-F]{1,32}$/.test(word))
    return { error: `"${word.slice(0, 40)}" is not a transfer id (see /transfers)` };
  return { id: word.toLowerCase() };
}

/** The transfers of the client, or an error shown when it has none (no identity). */
export function transfersOf(context: CommandContext) {
  const transfers = context.client.transfers;
  if (!transfers)
    context.screen.notice(
      'error',
      'file transfer needs a v2 identity (not available in legacy mode)',
    );
  return transfers;
}

/** Shows the outcome of a transfer action: nothing when it went ahead, else why not. */
export function report(
  context: CommandContext,
  outcome: Promise<true | string> | true | string,
): void {
  void Promise.resolve(outcome).then((result) => {
    if (result !== true) context.screen.notice('error', result);
  });
}
