import type { CommandContext } from './command.js';
import { currentTarget, sendText } from './conversation.js';
import type { ParsedCommand, ParsedInput } from './parse.js';

/** Why a command that needs something cannot run without it. */
const MISSING: Record<'identity', { text: string; code: string }> = {
  identity: {
    text: 'rooms need an identity key: connect without --legacy',
    code: 'E_NEEDS_IDENTITY',
  },
};

/**
 * Does what a parsed line says: shows what was invalid, sends text to the current
 * conversation, or runs a command once what it requires is there.
 */
export function runInput(input: ParsedInput, context: CommandContext): void {
  switch (input.kind) {
    case 'empty':
      return;
    case 'invalid':
      context.screen.notice(
        'error',
        input.usage ? `${input.error}\n  usage: ${input.usage}` : input.error,
        'E_USAGE',
      );
      return;
    case 'text': {
      const target = currentTarget(
        context,
        'use /query <user|#room> (or /join #room) first, or /to <user|#room> <text>',
      );
      if (target !== undefined) sendText(context, target, input.text, false);
      return;
    }
    case 'command':
      runCommand(input, context);
  }
}

function runCommand({ kind: _kind, name, ...args }: ParsedCommand, context: CommandContext): void {
  const command = context.commands.find(name);
  if (!command) return;
  if (command.requires === 'identity' && !context.client.identity) {
    const missing = MISSING[command.requires];
    context.screen.notice('error', missing.text, missing.code);
    return;
  }
  command.run(args, context);
}
