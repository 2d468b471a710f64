import {
  ErrorCode,
  encodeAck,
  encodeRoomEvent,
  type ModerateFrame,
  roomKey,
} from '../../protocol/index.js';
import {
  type Authority,
  hashNewPassword,
  RANK,
  type RoomHost,
  type RoomMember,
} from './room-host.js';

/**
 * op / deop / kick / ban / unban / password: owner > op > member, server admins above all;
 * nobody acts on someone with as much authority (except to op them). Bans are by identity
 * key, so a new name does not get around them. Every action is broadcast to the room,
 * logged, and acknowledged to the actor.
 */
export async function moderate<M extends RoomMember>(
  host: RoomHost<M>,
  actor: M,
  frame: ModerateFrame,
): Promise<void> {
  const { store } = host.options;
  const room = store.rooms.get(frame.room);
  if (!room) {
    host.error(actor, ErrorCode.NO_SUCH_ROOM, `${frame.room} does not exist`, frame.id);
    return;
  }
  const key = roomKey(room.name);
  const rank = RANK[host.authority(room.name, actor)];
  if (rank < RANK.op) {
    host.error(actor, ErrorCode.FORBIDDEN, `you are not an operator of ${room.name}`, frame.id);
    return;
  }
  if (frame.action === 'password') {
    const hashed = await hashNewPassword(host, actor, frame.password, frame.id);
    if (hashed === 'busy') return;
    const { hash } = hashed;
    store.rooms.setPassword(room.name, hash);
    actor.log.info({
      event: 'room.password',
      room: room.name,
      by: actor.name,
      set: hash !== undefined,
    });
    host.broadcast(
      key,
      encodeRoomEvent({
        event: 'password',
        room: room.name,
        set: hash !== undefined,
        by: actor.name,
      }),
    );
    if (actor.open && !host.isMember(room.name, actor))
      actor.send(encodeAck(frame.id ?? 'password'), 'ack');
    return;
  }
  const targetName = frame.user!;
  const online = host.online(key, targetName);
  const targetKey = online?.identityKey ?? store.getBinding(targetName)?.identityKey;
  if (!targetKey) {
    host.error(
      actor,
      ErrorCode.NO_SUCH_USER,
      `${targetName} has no identity on this server`,
      frame.id,
    );
    return;
  }
  const targetRank =
    RANK[(store.rooms.getRole(room.name, targetKey) as Authority | undefined) ?? 'member'];
  if (targetRank >= rank && frame.action !== 'op') {
    host.error(
      actor,
      ErrorCode.FORBIDDEN,
      `${targetName} has as much authority in ${room.name} as you`,
      frame.id,
    );
    return;
  }
  const by = actor.name;
  switch (frame.action) {
    case 'op':
    case 'deop':
      if (targetRank >= rank) {
        host.error(
          actor,
          ErrorCode.FORBIDDEN,
          `${targetName} has as much authority as you`,
          frame.id,
        );
        return;
      }
      store.rooms.setRole(room.name, targetKey, frame.action === 'op' ? 'op' : undefined);
      host.broadcast(
        key,
        encodeRoomEvent({ event: frame.action, room: room.name, user: targetName, by }),
      );
      break;
    case 'kick':
      if (!online) {
        host.error(actor, ErrorCode.NOT_MEMBER, `${targetName} is not in ${room.name}`, frame.id);
        return;
      }
      host.remove(key, online, 'kick', by, frame.reason);
      break;
    case 'ban': {
      const now = host.now();
      store.rooms.setBan(room.name, targetKey, {
        ...(frame.duration ? { until: now + frame.duration * 1000 } : {}),
        reason: frame.reason ?? '',
        bannedBy: by,
        createdAt: now,
      });
      if (online) host.remove(key, online, 'ban', by, frame.reason);
      else
        host.broadcast(
          key,
          encodeRoomEvent({ event: 'ban', room: room.name, user: targetName, by }),
        );
      break;
    }
    case 'unban':
      store.rooms.setBan(room.name, targetKey, undefined);
      host.broadcast(
        key,
        encodeRoomEvent({ event: 'unban', room: room.name, user: targetName, by }),
      );
      break;
  }
  actor.log.info({ event: `room.${frame.action}`, room: room.name, user: targetName, by });
  if (frame.id !== undefined && actor.open) actor.send(encodeAck(frame.id), 'ack');
}
