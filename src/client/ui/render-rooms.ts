/** Room events and room lists as display lines (see render.ts). */
import type { RoomEvent, RoomListEvent } from '../events.js';
import { type Context, note, sameName, text } from './render-context.js';
import { sanitizeName } from './sanitize.js';
import { Glyph } from './theme.js';

const ROOM_VERBS: Record<RoomEvent['event'], string> = {
  joined: 'you joined',
  join: 'joined',
  part: 'left',
  kick: 'was kicked from',
  ban: 'was banned from',
  unban: 'was unbanned from',
  topic: 'set the topic of',
  op: 'is now an operator of',
  deop: 'is no longer an operator of',
  password: 'changed the password of',
};

/** Events said with the one who acted first: "alice made bob an operator of #dev". */
function actedBy(event: RoomEvent, who: string, by: string, room: string): string | undefined {
  switch (event.event) {
    case 'op':
      return `${by} made ${who} an operator of ${room}`;
    case 'deop':
      return `${by} took ${who}'s operator rights in ${room}`;
    case 'password':
      return `${by} changed the password of ${room}`;
    case 'unban':
      return `${by} lifted the ban on ${who} in ${room}`;
    default:
      return undefined;
  }
}

export function renderRoom(event: RoomEvent, ctx: Context): string[] {
  const { s } = ctx;
  const room = sanitizeName(event.room);
  const user = event.user === undefined ? undefined : sanitizeName(event.user);
  const who = user === undefined ? '' : `${user} `;
  const by = event.by === undefined ? '' : ` by ${sanitizeName(event.by)}`;
  const reason = event.reason ? ` (${note(event.reason)})` : '';
  const glyph =
    event.event === 'join' || event.event === 'joined'
      ? Glyph.join
      : event.event === 'part' || event.event === 'kick' || event.event === 'ban'
        ? Glyph.leave
        : Glyph.info;
  const self = event.user !== undefined && sameName(event.user, ctx.self);
  let body: string;
  const acted =
    event.by === undefined
      ? undefined
      : actedBy(event, self ? 'you' : (user ?? 'someone'), sanitizeName(event.by), room);
  if (event.event === 'topic') {
    body = `${who || (event.by ? `${sanitizeName(event.by)} ` : '')}${event.by || event.user ? 'set the topic of ' : 'topic of '}${room}: ${text(event.text ?? '')}`;
  } else if (event.event === 'joined') {
    body = `you joined ${room}${event.text ? ` — topic: ${text(event.text)}` : ''}`;
  } else if (acted !== undefined) {
    body = acted + reason;
  } else if (self && (event.event === 'kick' || event.event === 'ban')) {
    body = `you were ${event.event === 'kick' ? 'kicked from' : 'banned from'} ${room}${by}${reason}`;
  } else if (self && event.event === 'part') {
    body = `you left ${room}`;
  } else {
    body = `${who}${ROOM_VERBS[event.event] ?? note(String(event.event))} ${room}${by}${reason}`;
  }
  return ctx.lines(event.ts, `${s.info(glyph)} `, body);
}

export function renderRoomList(event: RoomListEvent, ctx: Context): string[] {
  const { s } = ctx;
  if (event.rooms.length === 0)
    return ctx.lines(event.ts, `${s.info(Glyph.info)} `, 'no rooms yet: /join #name creates one');
  const body = [`${event.rooms.length} room${event.rooms.length === 1 ? '' : 's'}:`];
  for (const room of event.rooms) {
    const flags = [room.password ? 'password' : '', room.lobby ? 'lobby' : '']
      .filter(Boolean)
      .join(', ');
    body.push(
      `  ${sanitizeName(room.room)}  ${room.members} member${room.members === 1 ? '' : 's'}${flags ? ` (${flags})` : ''}${room.topic ? `  ${note(room.topic)}` : ''}`,
    );
  }
  return ctx.lines(event.ts, `${s.info(Glyph.info)} `, body.join('\n'));
}
