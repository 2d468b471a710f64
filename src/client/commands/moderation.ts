/** What the moderation commands (/op, /deop, /kick, /ban, /unban) share. */
import type { MemberModeration } from '../rooms/room-manager.js';
import { noRest, roomUser } from './args.js';
import { type ArgError, type Command, defineCommand } from './command.js';
import { roomOf } from './conversation.js';

export interface ModerationArgs {
  room?: string;
  user: string;
  reason?: string;
  /** Seconds; absent = for good. */
  duration?: number;
}

/** `[#room] <user>` and nothing after it. */
const roomAndUser = (args: string) => noRest(roomUser(args));

/**
 * `[#room] <user> …`, what follows the user read by `tail` (by default: a reason, if any).
 */
export function roomUserThen(
  args: string,
  tail: (rest: string) => Partial<ModerationArgs> | ArgError = (rest) =>
    rest ? { reason: rest } : {},
): ModerationArgs | ArgError {
  const parsed = roomUser(args);
  if ('error' in parsed) return parsed;
  const { rest, ...value } = parsed;
  const more = tail(rest);
  return 'error' in more ? more : { ...value, ...more };
}

/**
 * A moderation command: `action` on a member of the room named (else the current
 * conversation's room), with the arguments `parse` reads (default `[#room] <user>`).
 */
export function moderationCommand(spec: {
  name: MemberModeration;
  usage: string;
  help: string;
  parse?: (args: string) => ModerationArgs | ArgError;
}): Command<ModerationArgs> {
  return defineCommand<ModerationArgs>({
    name: spec.name,
    group: 'rooms',
    aliases: [],
    usage: spec.usage,
    help: spec.help,
    firstArg: 'room',
    requires: 'identity',
    parse: spec.parse ?? roomAndUser,
    run(args, context) {
      const room = roomOf(context, args.room);
      if (room !== undefined) context.client.rooms.moderate(room, spec.name, args.user, args);
    },
  });
}
