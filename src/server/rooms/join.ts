import { ErrorCode, roomKey } from '../../protocol/index.js';
import type { StoredRoom } from '../store/index.js';
import { hashNewPassword, type RoomHost, type RoomMember } from './room-host.js';

type JoinFrame = { room: string; password?: string; id?: string };

/**
 * Joins a room, creating it if it is new (the creator owns it, with the password the join
 * carries, and is told so). Order of checks: ban, then authority (owners, operators and
 * admins need no password and are never locked out), then the password gate (lockout,
 * one check at a time, bounded hashing queue).
 */
export async function joinRoom<M extends RoomMember>(
  host: RoomHost<M>,
  member: M,
  frame: JoinFrame,
): Promise<void> {
  if (host.isMember(frame.room, member)) {
    host.admit(member, frame.room, frame.id);
    return;
  }
  const { store } = host.options;
  const room = store.rooms.get(frame.room);
  if (!room) {
    await create(host, member, frame);
    return;
  }
  const idk = member.identityKey!;
  const ban = store.rooms.getBan(room.name, idk, host.now());
  if (ban) {
    host.options.stats.securityEvents.inc('room_banned_join');
    host.error(
      member,
      ErrorCode.BANNED,
      `you are banned from ${room.name}${ban.until ? ` until ${new Date(ban.until).toISOString()}` : ''}`,
      frame.id,
    );
    return;
  }
  if (room.passwordHash && host.authority(room.name, member) === 'member') {
    if (!(await passwordAccepted(host, member, room, frame))) return;
  }
  if (!member.open) return;
  host.admit(member, room.name, frame.id);
}

async function passwordAccepted<M extends RoomMember>(
  host: RoomHost<M>,
  member: M,
  room: StoredRoom,
  frame: JoinFrame,
): Promise<boolean> {
  const { gate, stats } = host.options;
  const result = await gate.check(
    member.limitKey,
    roomKey(room.name),
    frame.password,
    room.passwordHash!,
    () => host.now(),
  );
  if (!member.open) return false;
  switch (result.verdict) {
    case 'ok':
      return true;
    case 'busy':
      stats.quotaRefused.inc(`password_${result.reason}`);
      host.error(
        member,
        ErrorCode.BUSY,
        result.reason === 'in_flight'
          ? `a password check for ${room.name} from you is already running: wait for its answer`
          : 'the server is busy checking passwords: try again in a few seconds',
        frame.id,
      );
      return false;
    case 'locked':
      stats.securityEvents.inc('room_lockout_refused');
      member.log.warn({ event: 'room.lockout_refused', room: room.name });
      host.error(
        member,
        ErrorCode.LOCKED_OUT,
        `too many wrong passwords for ${room.name}: try again in ${Math.ceil(result.forMs / 60_000)} min`,
        frame.id,
      );
      return false;
    case 'bad':
      stats.securityEvents.inc('room_bad_password');
      member.log.warn({ event: 'room.bad_password', room: room.name });
      if (result.lockedNow) {
        stats.securityEvents.inc('room_lockout');
        member.log.warn(
          { event: 'room.lockout', room: room.name, forMs: gate.lockout.lockMs },
          'too many wrong room passwords',
        );
      }
      host.error(
        member,
        ErrorCode.BAD_PASSWORD,
        `wrong or missing password for ${room.name}`,
        frame.id,
      );
      return false;
  }
}

async function create<M extends RoomMember>(
  host: RoomHost<M>,
  member: M,
  frame: JoinFrame,
): Promise<void> {
  const { store, stats, limits } = host.options;
  const idk = member.identityKey!;
  const quota =
    store.rooms.count() >= limits.maxRooms
      ? `the server holds its maximum of ${limits.maxRooms} rooms`
      : store.rooms.countOwned(idk) >= limits.roomsPerIdentity
        ? `you already own ${limits.roomsPerIdentity} rooms`
        : undefined;
  if (quota) {
    stats.quotaRefused.inc('room');
    member.log.warn({ event: 'room.quota', room: frame.room });
    host.error(member, ErrorCode.ROOM_QUOTA, `cannot create ${frame.room}: ${quota}`, frame.id);
    return;
  }
  const hashed = await hashNewPassword(host, member, frame.password, frame.id);
  if (hashed === 'busy' || !member.open) return;
  const { hash } = hashed;
  if (!store.rooms.create(frame.room, idk, host.now(), hash)) {
    // Someone created it while the password was being hashed: join it as it is.
    await joinRoom(host, member, frame);
    return;
  }
  member.log.info({ event: 'room.created', room: frame.room, password: hash !== undefined });
  host.admit(member, frame.room, frame.id, { password: hash !== undefined });
}
