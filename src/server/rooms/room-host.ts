import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { RelayRouter } from '../router.js';
import type { SendResult } from '../session-output.js';
import type { ServerStats } from '../stats.js';
import type { RoomRole, ServerStore } from '../store/index.js';
import type { PasswordGate } from './password-gate.js';

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
  /** A detached task failed: `E_INTERNAL` for this member's session. */
  failed(error: unknown, ref?: string): void;
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
  /** The one router: room fan-out goes through it like relays. */
  router: Pick<RelayRouter<never>, 'fanOut'>;
  clock: Clock;
}

export type Authority = 'admin' | RoomRole | 'member';
export const RANK: Record<Authority, number> = { member: 0, op: 1, owner: 2, admin: 3 };
