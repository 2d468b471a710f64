/** What /topic and /password share: `[#room] [value]` applied to the room named or current. */
import type { RoomManager } from '../rooms/room-manager.js';
import { roomAndRest } from './args.js';
import { type Command, defineCommand } from './command.js';
import { roomOf } from './conversation.js';

export function roomSettingCommand<F extends 'text' | 'password'>(spec: {
  name: string;
  aliases?: readonly string[];
  usage: string;
  help: string;
  /** Where the value after the room goes in the parsed arguments. */
  field: F;
  apply: (rooms: RoomManager, room: string, value: string | undefined) => void;
}): Command<{ room?: string } & Partial<Record<F, string>>> {
  return defineCommand<{ room?: string } & Partial<Record<F, string>>>({
    name: spec.name,
    group: 'rooms',
    aliases: spec.aliases ?? [],
    usage: spec.usage,
    help: spec.help,
    firstArg: 'room',
    requires: 'identity',
    parse: (args) => roomAndRest(args, spec.field),
    run(args, context) {
      const room = roomOf(context, args.room);
      if (room !== undefined) spec.apply(context.client.rooms, room, args[spec.field]);
    },
  });
}
