import { ErrorCode, roomKey } from '../../protocol/index.js';
import type { StoredRoom } from '../store/index.js';
import type { LiveRooms } from './live-rooms.js';
import { detach, hashNewPassword } from './passwords.js';
import type { RoomMember } from './room-host.js';

type JoinFrame = { room: string; password?: string; id?: string };

/**
 * Joins a room, creating it if it is new (the creator owns it, with the password the join
 * carries, and is told so). Order of checks: ban, then authority (owners, operators and
 * admins need no password and are never locked out), then the password gate (lockout,
 * one check at a time, bounded hashing queue). Password hashing runs detached, so the
 * member's next frames are not held up behind argon2.
 */
export async function joinRoom<M extends RoomMember>(
  rooms: LiveRooms<M>,
  member: M,
  frame: JoinFrame,
): Promise<void> {
  if (rooms.isMember(frame.room, member)) {
    await rooms.admit(member, frame.room, frame.id);
    return;
  }
  const { store } = rooms.options;
  const room = await store.rooms.get(frame.room);
  if (!room) {
    await create(rooms, member, frame);
    return;
  }
  const idk = member.identityKey!;
  const ban = await store.rooms.getBan(room.name, idk, rooms.now());
  if (ban) {
    rooms.options.stats.securityEvents.inc('room_banned_join');
    rooms.refuse(
      member,
      ErrorCode.BANNED,
      `you are banned from ${room.name}${ban.until ? ` until ${new Date(ban.until).toISOString()}` : ''}`,
      frame.id,
    );
    return;
  }
  if (room.passwordHash && (await rooms.authority(room.name, member)) === 'member') {
    detach(member, frame.id, async () => {
      if (!(await passwordAccepted(rooms, member, room, frame)) || !member.open) return;
      await rooms.admit(member, room.name, frame.id);
    });
    return;
  }
  if (!member.open) return;
  await rooms.admit(member, room.name, frame.id);
}

async function passwordAccepted<M extends RoomMember>(
  rooms: LiveRooms<M>,
  member: M,
  room: StoredRoom,
  frame: JoinFrame,
): Promise<boolean> {
  const { gate, stats } = rooms.options;
  const result = await gate.check(
    member.limitKey,
    roomKey(room.name),
    frame.password,
    room.passwordHash!,
    () => rooms.now(),
  );
  if (!member.open) return false;
  switch (result.verdict) {
    case 'ok':
      return true;
    case 'busy':
      stats.quotaRefused.inc(`password_${result.reason}`);
      rooms.refuse(
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
      rooms.refuse(
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
      rooms.refuse(
        member,
        ErrorCode.BAD_PASSWORD,
        `wrong or missing password for ${room.name}`,
        frame.id,
      );
      return false;
  }
}

/** Creates the room (atomically within the room quotas), hashing its password detached. */
async function create<M extends RoomMember>(
  rooms: LiveRooms<M>,
  member: M,
  frame: JoinFrame,
): Promise<void> {
  const { store, limits } = rooms.options;
  const idk = member.identityKey!;
  const [count, owned] = await Promise.all([store.rooms.count(), store.rooms.countOwned(idk)]);
  if (count >= limits.maxRooms) return refuseQuota(rooms, member, frame, 'server_full');
  if (owned >= limits.roomsPerIdentity) return refuseQuota(rooms, member, frame, 'owner_full');
  const finish = async (hash: string | undefined) => {
    if (!member.open) return;
    const created = await store.rooms.create(frame.room, idk, rooms.now(), hash, limits);
    if (created === 'exists') {
      // Someone created it meanwhile: join it as it is.
      await joinRoom(rooms, member, frame);
      return;
    }
    if (created !== 'created') return refuseQuota(rooms, member, frame, created);
    member.log.info({ event: 'room.created', room: frame.room, password: hash !== undefined });
    await rooms.admit(member, frame.room, frame.id, { password: hash !== undefined });
  };
  if (!frame.password) return finish(undefined);
  detach(member, frame.id, async () => {
    const hashed = await hashNewPassword(rooms, member, frame.password, frame.id);
    if (hashed !== 'busy') await finish(hashed.hash);
  });
}

function refuseQuota<M extends RoomMember>(
  rooms: LiveRooms<M>,
  member: M,
  frame: JoinFrame,
  why: 'server_full' | 'owner_full',
): void {
  const { stats, limits } = rooms.options;
  const quota =
    why === 'server_full'
      ? `the server holds its maximum of ${limits.maxRooms} rooms`
      : `you already own ${limits.roomsPerIdentity} rooms`;
  stats.quotaRefused.inc('room');
  member.log.warn({ event: 'room.quota', room: frame.room });
  rooms.refuse(member, ErrorCode.ROOM_QUOTA, `cannot create ${frame.room}: ${quota}`, frame.id);
}
