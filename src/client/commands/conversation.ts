/** What several commands do with the current conversation. */
import { tooLongReason } from '../direct/line-budget.js';
import type { SendOutcome } from '../events.js';
import type { CommandContext } from './command.js';

/** A send request that failed at once is shown as an error (its fate otherwise follows as events). */
export function report(context: CommandContext, outcome: SendOutcome): void {
  if (!outcome.ok) context.screen.notice('error', outcome.reason, 'E_SEND');
}

/** Sends `text` (an action with `action`) to a user, or to a #room. */
export function sendText(
  context: CommandContext,
  target: string,
  text: string,
  action: boolean,
): void {
  const { client } = context;
  // Refused before it is shown: the server would close the connection over it.
  const tooLong = tooLongReason(text, client.maxLineBytes);
  if (tooLong !== undefined) {
    context.screen.notice('error', tooLong, 'E_TOO_LONG');
    return;
  }
  report(
    context,
    target.startsWith('#')
      ? client.rooms.send(target, text, action)
      : client.sendDirect(target, text, { action }),
  );
}

/**
 * Where plain lines (and /me) go now; when none is selected, says so (`hint`: what to do)
 * and returns undefined.
 */
export function currentTarget(context: CommandContext, hint: string): string | undefined {
  const target = context.conversations.target;
  if (target === undefined)
    context.screen.notice('error', `no conversation selected: ${hint}`, 'E_NO_TARGET');
  return target;
}

/** The room a command is about: the one named, else the current conversation if it is a room. */
export function roomOf(context: CommandContext, named: string | undefined): string | undefined {
  const target = context.conversations.target;
  const room = named ?? (target?.startsWith('#') ? target : undefined);
  if (room === undefined)
    context.screen.notice(
      'error',
      'which room? name it (#room) or /query #room first',
      'E_NO_TARGET',
    );
  return room;
}
