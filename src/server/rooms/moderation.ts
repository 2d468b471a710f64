import { ErrorCode, type RoomClientFrame, roomKey } from '../../protocol/index.js';
import { ackLine } from '../frames.js';
import type { RoomRole } from '../store/index.js';
import type { RoomMember, RoomServiceOptions } from './room-service.js';

export type Authority = 'admin' | RoomRole | 'member';
export const RANK: Record<Authority, number> = { member: 0, op: 1, owner: 2, admin: 3 };

type ModerateFrame = Extract<RoomClientFrame, { type: 'moderate' }>;

/** What moderation needs of the room service (its live membership and fan-out). */
export interface ModerationHost<M extends RoomMember> {
  readonly options: RoomServiceOptions;
  now(): number;
  authority(room: string, member: M): Authority;
  isMember(room: string, member: M): boolean;
  /** The member of that room (by room key) now online under that name. */
  online(key: string, name: string): M | undefined;
  broadcast(key: string, line: string): number;
  remove(key: string, member: M, event: 'kick' | 'ban', by: string, reason?: string): void;
  error(member: M, code: ErrorCode, text: string, ref?: string): void;
}

/**
 * op / deop / kick / ban / unban / password: owner > op > member, server admins above all;
 * nobody acts on someone with as much authority (except to op them). Bans are by identity
 * key, so a new name does not get around them. Every action is broadcast to the room,
 * logged, and acknowledged to the actor.
 */
export async function moderate<M extends RoomMember>(
  host: ModerationHost<M>,
  actor: M,
  frame: ModerateFrame,
): Promise<void> {
  const { store, logger, hasher } = host.options;
  const room = store.getRoom(frame.room);
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
    const hash = frame.password ? await hasher.hash(frame.password) : undefined;
    store.setRoomPassword(room.name, hash);
    logger.info({
      event: 'room.password',
      room: room.name,
      by: actor.name,
      set: hash !== undefined,
    });
    host.broadcast(
      key,
      `{"type":"room","event":"password","room":"${room.name}","set":${hash !== undefined},"by":"${actor.name}"}\n`,
    );
    if (actor.open && !host.isMember(room.name, actor))
      actor.send(ackLine(frame.id ?? 'password'), 'ack');
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
    RANK[(store.getRole(room.name, targetKey) as Authority | undefined) ?? 'member'];
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
      store.setRole(room.name, targetKey, frame.action === 'op' ? 'op' : undefined);
      host.broadcast(
        key,
        `{"type":"room","event":"${frame.action}","room":"${room.name}","user":"${targetName}","by":"${by}"}\n`,
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
      store.setBan(room.name, targetKey, {
        ...(frame.duration ? { until: now + frame.duration * 1000 } : {}),
        reason: frame.reason ?? '',
        bannedBy: by,
        createdAt: now,
      });
      if (online) host.remove(key, online, 'ban', by, frame.reason);
      else
        host.broadcast(
          key,
          `{"type":"room","event":"ban","room":"${room.name}","user":"${targetName}","by":"${by}"}\n`,
        );
      break;
    }
    case 'unban':
      store.setBan(room.name, targetKey, undefined);
      host.broadcast(
        key,
        `{"type":"room","event":"unban","room":"${room.name}","user":"${targetName}","by":"${by}"}\n`,
      );
      break;
  }
  logger.info({ event: `room.${frame.action}`, room: room.name, user: targetName, by });
  if (frame.id !== undefined && actor.open) actor.send(ackLine(frame.id), 'ack');
}
