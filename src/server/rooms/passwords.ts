import { ErrorCode } from '../../protocol/index.js';
import type { LiveRooms } from './live-rooms.js';
import { HasherBusyError } from './password-gate.js';
import type { RoomMember } from './room-host.js';

/**
 * Hashes a new room password for `member`; when the hashing queue is full the member is told
 * `E_BUSY` and the result is `busy`. No password: no hash.
 */
export async function hashNewPassword<M extends RoomMember>(
  rooms: LiveRooms<M>,
  member: M,
  password: string | undefined,
  ref: string | undefined,
): Promise<{ hash: string | undefined } | 'busy'> {
  if (!password) return { hash: undefined };
  try {
    return { hash: await rooms.options.gate.hash(password) };
  } catch (error) {
    if (!(error instanceof HasherBusyError)) throw error;
    rooms.refuse(member, ErrorCode.BUSY, 'the server is busy hashing passwords: try again', ref);
    return 'busy';
  }
}

/**
 * Runs the slow part of a room request (argon2 hashing) without holding up the member's
 * next frames; its failure costs the member one `E_INTERNAL`, like a handler's.
 */
export function detach<M extends RoomMember>(
  member: M,
  ref: string | undefined,
  task: () => Promise<void>,
): void {
  task().catch((error: unknown) => member.failed(error, ref));
}
