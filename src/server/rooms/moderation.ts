import {
  ErrorCode,
  encodeAck,
  encodeRoomEvent,
  type ModerateFrame,
  roomKey,
} from '../../protocol/index.js';
import type { LiveRooms } from './live-rooms.js';
import { detach, hashNewPassword } from './passwords.js';
import { type Authority, RANK, type RoomMember } from './room-host.js';

/**
 * op / deop / kick / ban / unban / password: owner > op > member, server admins above all;
 * nobody acts on someone with as much authority (except to op them). Bans are by identity
 * key, so a new name does not get around them. Every action is broadcast to the room,
 * logged, and acknowledged to the actor.
 */
export async function moderate<M extends RoomMember>(
  rooms: LiveRooms<M>,
  actor: M,
  frame: ModerateFrame,
): Promise<void> {
  const { store } = rooms.options;
  const refuse = (code: ErrorCode, text: string) => rooms.refuse(actor, code, text, frame.id);
  const room = await store.rooms.get(frame.room);
  if (!room) {
    refuse(ErrorCode.NO_SUCH_ROOM, `${frame.room} does not exist`);
    return;
  }
  const key = roomKey(room.name);
  const rank = RANK[await rooms.authority(room.name, actor)];
  if (rank < RANK.op) {
    refuse(ErrorCode.FORBIDDEN, `you are not an operator of ${room.name}`);
    return;
  }
  if (frame.action === 'password') {
    detach(actor, frame.id, async () => {
      const hashed = await hashNewPassword(rooms, actor, frame.password, frame.id);
      if (hashed === 'busy') return;
      const { hash } = hashed;
      await store.rooms.setPassword(room.name, hash);
      actor.log.info({
        event: 'room.password',
        room: room.name,
        by: actor.name,
        set: hash !== undefined,
      });
      const set = hash !== undefined;
      rooms.broadcast(
        key,
        encodeRoomEvent({ event: 'password', room: room.name, set, by: actor.name }),
      );
      if (actor.open && !rooms.isMember(room.name, actor))
        actor.send(encodeAck(frame.id ?? 'password'), 'ack');
    });
    return;
  }
  const targetName = frame.user!;
  const online = rooms.online(key, targetName);
  const targetKey = online?.identityKey ?? (await store.getBinding(targetName))?.identityKey;
  if (!targetKey) {
    refuse(ErrorCode.NO_SUCH_USER, `${targetName} has no identity on this server`);
    return;
  }
  const targetRole = await store.rooms.getRole(room.name, targetKey);
  const targetRank = RANK[(targetRole as Authority | undefined) ?? 'member'];
  if (targetRank >= rank && frame.action !== 'op') {
    refuse(ErrorCode.FORBIDDEN, `${targetName} has as much authority in ${room.name} as you`);
    return;
  }
  const by = actor.name;
  const event = (kind: 'op' | 'deop' | 'ban' | 'unban') =>
    encodeRoomEvent({ event: kind, room: room.name, user: targetName, by });
  switch (frame.action) {
    case 'op':
    case 'deop':
      if (targetRank >= rank) {
        refuse(ErrorCode.FORBIDDEN, `${targetName} has as much authority as you`);
        return;
      }
      await store.rooms.setRole(room.name, targetKey, frame.action === 'op' ? 'op' : undefined);
      rooms.broadcast(key, event(frame.action));
      break;
    case 'kick':
      if (online) await rooms.remove(key, online, 'kick', by, frame.reason);
      else if (
        !(await rooms.options.bus?.removeRemote(key, targetName, 'kick', by, frame.reason))
      ) {
        refuse(ErrorCode.NOT_MEMBER, `${targetName} is not in ${room.name}`);
        return;
      }
      break;
    case 'ban': {
      const now = rooms.now();
      await store.rooms.setBan(room.name, targetKey, {
        ...(frame.duration ? { until: now + frame.duration * 1000 } : {}),
        reason: frame.reason ?? '',
        bannedBy: by,
        createdAt: now,
      });
      if (online) await rooms.remove(key, online, 'ban', by, frame.reason);
      else if (!(await rooms.options.bus?.removeRemote(key, targetName, 'ban', by, frame.reason)))
        rooms.broadcast(key, event('ban'));
      break;
    }
    case 'unban':
      await store.rooms.setBan(room.name, targetKey, undefined);
      rooms.broadcast(key, event('unban'));
      break;
  }
  actor.log.info({ event: `room.${frame.action}`, room: room.name, user: targetName, by });
  if (frame.id !== undefined && actor.open) actor.send(encodeAck(frame.id), 'ack');
}
