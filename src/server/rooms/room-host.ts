import type { ErrorCode } from '../../protocol/index.js';
import { ErrorCode as Codes } from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import type { SendResult } from '../session-output.js';
import type { ServerStats } from '../stats.js';
import type { RoomRole, ServerStore } from '../store/index.js';
import { HasherBusyError, type PasswordGate } from './password-gate.js';

/** Logging a member's room actions goes through its session's throttled log. */
export interface MemberLog {
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
}

/** What the room service needs from a session. */
export interface RoomMember {
  readonly name: string;
  readonly identityKey: string | undefined;
  readonly identityFingerprint: string | undefined;
  readonly peerJson: string;
  /** Per-address limits key, or `id:<identity>` when the address is shared by many clients. */
  readonly limitKey: string;
  readonly open: boolean;
  readonly log: MemberLog;
  /** An answer to the member's own request (never refused for a full queue). */
  send(line: string, kind: string): boolean;
  /** A room message from a peer (not queued while the member is not reading). */
  offer(line: string, kind: string): SendResult;
  /** A membership change (queued unless the member is hopelessly behind). */
  push(line: string, kind: string): SendResult;
  /** A room message was not queued for this member: it hears how many once it reads again. */
  missedRoomMessage(room: string): void;
}

export interface RoomLimits {
  /** Rooms one identity may own. */
  roomsPerIdentity: number;
  /** Rooms in all. */
  maxRooms: number;
  /** Rooms empty this long are deleted (the lobby and rooms owned by an admin never). */
  ttlMs: number;
}

export interface RoomServiceOptions {
  store: ServerStore;
  gate: PasswordGate;
  logger: Logger;
  stats: ServerStats;
  /** Identity fingerprints of server administrators. */
  admins: ReadonlySet<string>;
  /** Room every v2 client with the `rooms` capability joins; undefined = none. */
  lobby?: string;
  limits: RoomLimits;
  now?: () => number;
}

export type Authority = 'admin' | RoomRole | 'member';
export const RANK: Record<Authority, number> = { member: 0, op: 1, owner: 2, admin: 3 };

/** What joining and moderation need of the room service (its live membership and fan-out). */
export interface RoomHost<M extends RoomMember> {
  readonly options: RoomServiceOptions;
  now(): number;
  authority(room: string, member: M): Authority;
  isMember(room: string, member: M): boolean;
  /** The member of that room (by room key) now online under that name. */
  online(key: string, name: string): M | undefined;
  /** Sends a membership or settings event to every member of the room; how many got it. */
  broadcast(key: string, line: string): number;
  /** Adds a member to the live room (announcing it to the others) and answers `joined`. */
  admit(member: M, room: string, id: string | undefined, created?: { password: boolean }): void;
  remove(key: string, member: M, event: 'kick' | 'ban', by: string, reason?: string): void;
  error(member: M, code: ErrorCode, text: string, ref?: string): void;
}

/**
 * Hashes a new room password for `member`; when the hashing queue is full the member is told
 * `E_BUSY` and the result is `busy`. No password: no hash.
 */
export async function hashNewPassword<M extends RoomMember>(
  host: RoomHost<M>,
  member: M,
  password: string | undefined,
  ref: string | undefined,
): Promise<{ hash: string | undefined } | 'busy'> {
  if (!password) return { hash: undefined };
  try {
    return { hash: await host.options.gate.hash(password) };
  } catch (error) {
    if (!(error instanceof HasherBusyError)) throw error;
    host.error(member, Codes.BUSY, 'the server is busy hashing passwords: try again', ref);
    return 'busy';
  }
}
