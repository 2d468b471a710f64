import { isValidRoom } from '../../protocol/index.js';
import { checkUser, echo, optionalRoom, spec, splitWord } from './args.js';
import type { ArgError, CommandSpec } from './registry.js';

/** `10m`, `2h`, `1d`, `30s` or plain seconds → seconds. */
function parseDuration(word: string): number | undefined {
  const match = /^(\d{1,7})([smhd]?)$/.exec(word);
  if (!match) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** `[#room] <user> [rest]` for moderation commands. */
function roomUser(args: string): { room?: string; user: string; rest: string } | ArgError {
  const room = optionalRoom(args);
  if ('error' in room) return room;
  const { word, rest } = splitWord(room.rest);
  const bad = checkUser(word);
  if (bad) return bad;
  return { ...(room.room ? { room: room.room } : {}), user: word, rest };
}

function noRest<T extends { rest: string }>(parsed: T | ArgError): Omit<T, 'rest'> | ArgError {
  if ('error' in parsed) return parsed;
  const { rest, ...value } = parsed;
  return rest === '' ? value : { error: `unexpected "${echo(rest)}"` };
}

/** Room commands (protocol v2). A missing #room means the current conversation's room. */

/** `[#room] [rest]`, with the rest (if any) under `field`. */
function roomAndRest(args: string, field: 'text' | 'password') {
  const room = optionalRoom(args);
  if ('error' in room) return room;
  return {
    ...(room.room ? { room: room.room } : {}),
    ...(room.rest ? { [field]: room.rest } : {}),
  };
}

export const ROOM_COMMANDS: readonly CommandSpec[] = [
  spec({
    name: 'join',
    aliases: ['j'],
    usage: '/join <#room> [password]',
    help: 'join a room (created, with you as owner, if it does not exist)',
    firstArg: 'room',
    parse(args) {
      const { word, rest } = splitWord(args);
      if (!isValidRoom(word))
        return { error: `"${echo(word)}" is not a room: rooms look like #name` };
      return rest === '' ? { room: word } : { room: word, password: rest };
    },
  }),
  spec({
    name: 'part',
    aliases: ['leave'],
    usage: '/part [#room]',
    help: 'leave a room (members rotate their keys: you cannot read what follows)',
    firstArg: 'room',
    parse: (args) => noRest(optionalRoom(args)),
  }),
  spec({
    name: 'rooms',
    aliases: [],
    usage: '/rooms [#after]',
    help: 'list the rooms on this server with member counts (a page at a time: /rooms #last for more)',
    firstArg: 'room',
    parse(args) {
      const page = noRest(optionalRoom(args));
      if ('error' in page) return page;
      return page.room ? { after: page.room } : {};
    },
  }),
  spec({
    name: 'topic',
    aliases: [],
    usage: '/topic [#room] [text]',
    help: "show a room's topic, or set it (operators)",
    firstArg: 'room',
    parse: (args) => roomAndRest(args, 'text'),
  }),
  spec({
    name: 'op',
    aliases: [],
    usage: '/op [#room] <user>',
    help: 'make a member an operator (owners and operators)',
    firstArg: 'room',
    parse: (args) => noRest(roomUser(args)),
  }),
  spec({
    name: 'deop',
    aliases: [],
    usage: '/deop [#room] <user>',
    help: "remove a member's operator role",
    firstArg: 'room',
    parse: (args) => noRest(roomUser(args)),
  }),
  spec({
    name: 'kick',
    aliases: [],
    usage: '/kick [#room] <user> [reason]',
    help: 'remove a member from a room (they may rejoin)',
    firstArg: 'room',
    parse(args) {
      const parsed = roomUser(args);
      if ('error' in parsed) return parsed;
      const { rest, ...value } = parsed;
      return rest ? { ...value, reason: rest } : value;
    },
  }),
  spec({
    name: 'ban',
    aliases: [],
    usage: '/ban [#room] <user> [duration] [reason]',
    help: 'ban an identity from a room (not just the name), for a duration like 10m, 2h, 1d or for good',
    firstArg: 'room',
    parse(args) {
      const parsed = roomUser(args);
      if ('error' in parsed) return parsed;
      const { rest, ...value } = parsed;
      const { word, rest: reason } = splitWord(rest);
      const duration = word === '' ? undefined : parseDuration(word);
      if (duration === undefined) return rest ? { ...value, reason: rest } : value;
      if (duration < 1) return { error: 'a ban lasts at least one second' };
      return { ...value, duration, ...(reason ? { reason } : {}) };
    },
  }),
  spec({
    name: 'unban',
    aliases: [],
    usage: '/unban [#room] <user>',
    help: 'lift a ban',
    firstArg: 'room',
    parse: (args) => noRest(roomUser(args)),
  }),
  spec({
    name: 'password',
    aliases: ['pass'],
    usage: '/password [#room] [new password]',
    help: "set a room's password (empty to clear it); stored only as an argon2id hash",
    firstArg: 'room',
    parse: (args) => roomAndRest(args, 'password'),
  }),
  spec({
    name: 'motd',
    aliases: [],
    usage: '/motd [text]',
    help: 'show the message of the day, or set it (server administrators)',
    firstArg: 'text',
    parse: (args) => (args.trim() === '' ? {} : { text: args.trim() }),
  }),
];
