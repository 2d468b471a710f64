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
  /** Set on a cluster node: rooms span the nodes (cluster/cluster-rooms.ts). */
  bus?: RoomBus;
}

export type RemovalEvent = 'part' | 'kick' | 'ban';

/**
 * Rooms across the nodes of a cluster: each node fans a line out to its own members and
 * publishes it once for the others; membership lives in the shared store.
 */
export interface RoomBus {
  /** Sends a line to the room's members on the other nodes (one publish). */
  publish(key: string, line: string, essential: boolean, exceptName?: string): void;
  /** A member of this node entered / left the room (with its member-list entry). */
  entered(key: string, name: string, memberJson: string): Promise<void>;
  exited(key: string, name: string): Promise<void>;
  /** Members of each room (by key) on every node together. */
  memberCounts(keys: readonly string[]): Promise<number[]>;
  /** `[name, member JSON]` of the room's members on other nodes. */
  remoteMembers(key: string): Promise<Array<[string, string]>>;
  /** Asks the node holding `name` in the room to remove it; false when no other node has it. */
  removeRemote(
    key: string,
    name: string,
    event: RemovalEvent,
    by?: string,
    reason?: string,
  ): Promise<boolean>;
}

/** What a node does with what other nodes publish for its rooms. */
export interface RoomBusHandler {
  deliver(key: string, line: string, essential: boolean, exceptName?: string): void;
  removeLocal(
    key: string,
    name: string,
    event: RemovalEvent,
    by?: string,
    reason?: string,
  ): Promise<void>;
  /** This node may have missed traffic of other nodes: bring its members up to date. */
  resync(): Promise<void>;
}

export type Authority = 'admin' | RoomRole | 'member';
export const RANK: Record<Authority, number> = { member: 0, op: 1, owner: 2, admin: 3 };
