import type { RoomEvent } from '../client/events.js';

/** A room event as one line of text (names and texts are peer-supplied: shown as text). */
export function roomEventText(event: RoomEvent): string {
  const by = event.by ? ` by ${event.by}` : '';
  const why = event.reason ? ` (${event.reason})` : '';
  switch (event.event) {
    case 'joined':
      return `you joined ${event.room}`;
    case 'join':
      return `${event.user ?? '?'} joined`;
    case 'part':
      return `${event.user ?? '?'} left`;
    case 'kick':
      return `${event.user ?? '?'} was kicked${by}${why}`;
    case 'ban':
      return `${event.user ?? '?'} was banned${by}${why}`;
    case 'unban':
      return `${event.user ?? '?'} was unbanned${by}`;
    case 'topic':
      return `topic${by}: ${event.text ?? ''}`;
    case 'op':
      return `${event.user ?? '?'} is now an operator${by}`;
    case 'deop':
      return `${event.user ?? '?'} is no longer an operator${by}`;
    case 'password':
      return `the room password was changed${by}`;
  }
}
