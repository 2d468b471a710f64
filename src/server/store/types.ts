import type { OneTimePrekey } from '../../protocol/index.js';

/** A name bound to an identity key on first use (protocol v2). */
export interface IdentityBinding {
  /** Name as first registered (display form). */
  name: string;
  /** Base64 Ed25519 public key. */
  identityKey: string;
  /** Last published X25519 key and its signature (for bundles while offline). */
  pub?: string;
  pubsig?: string;
  /** Capabilities announced in the last hello. */
  caps: string[];
  firstSeen: number;
  lastSeen: number;
}

/** A message kept for an offline recipient. */
export interface StoredMessage {
  seq: number;
  /** The relay line as it will be delivered (without its `seq`). */
  line: string;
}

/** A room as persisted (membership itself is live state, not stored). */
export interface StoredRoom {
  name: string;
  topic: string;
  /** argon2id PHC string; absent when the room has no password. */
  passwordHash?: string;
  createdAt: number;
}

export type RoomRole = 'owner' | 'op';

/** A ban of an identity key from a room; `until` absent = permanent. */
export interface RoomBan {
  until?: number;
  reason: string;
  bannedBy: string;
  createdAt: number;
}

export type EnqueueResult =
  | { ok: true; seq: number }
  | { ok: false; reason: 'recipient_full' | 'sender_quota' };

/**
 * What the server persists. Behind an interface so the embedded SQLite store can be
 * replaced (Redis for scale-out) without touching sessions.
 */
export interface ServerStore {
  /** Binding of a name (case-insensitive), if any. */
  getBinding(name: string): IdentityBinding | undefined;
  /**
   * Binds `name` to `identityKey` unless the name is already bound; returns the binding
   * that holds after the call and whether this call created it. Atomic.
   */
  bindName(
    name: string,
    identityKey: string,
    now: number,
  ): { binding: IdentityBinding; created: boolean };
  /** Records a successful v2 login: last seen, published keys and capabilities. */
  touchBinding(
    name: string,
    now: number,
    published?: { pub: string; pubsig: string; caps: string[] },
  ): void;

  /**
   * Adds one-time prekeys (ids already stored are replaced; with `replace`, every earlier
   * prekey is dropped first); returns how many are stored.
   */
  addPrekeys(name: string, keys: OneTimePrekey[], max: number, replace?: boolean): number;
  /** Removes and returns one prekey (oldest first); never the same one twice. */
  takePrekey(name: string): OneTimePrekey | undefined;
  countPrekeys(name: string): number;

  /** Stores a message for an offline recipient, within the quotas. */
  enqueueMessage(
    recipient: string,
    sender: string,
    line: string,
    now: number,
    limits: { perRecipient: number; perSender: number },
  ): EnqueueResult;
  /** Messages waiting for `recipient`, oldest first (expired ones excluded). */
  pendingMessages(recipient: string, notBefore: number, limit: number): StoredMessage[];
  /** Deletes the recipient's messages with seq ≤ `upto`; returns how many. */
  acknowledgeMessages(recipient: string, upto: number): number;
  /** Deletes messages older than `before`; returns how many. */
  expireMessages(before: number): number;

  getRoom(room: string): StoredRoom | undefined;
  listRooms(): StoredRoom[];
  /** Creates the room with `owner` (identity key, if any) as owner; false if it exists. Atomic. */
  createRoom(room: string, owner: string | undefined, now: number): boolean;
  setRoomTopic(room: string, topic: string): void;
  setRoomPassword(room: string, passwordHash: string | undefined): void;
  getRole(room: string, identityKey: string): RoomRole | undefined;
  setRole(room: string, identityKey: string, role: RoomRole | undefined): void;
  /** The ban in force (expired bans are removed and ignored). */
  getBan(room: string, identityKey: string, now: number): RoomBan | undefined;
  setBan(room: string, identityKey: string, ban: RoomBan | undefined): void;
  getSetting(key: string): string | undefined;
  setSetting(key: string, value: string): void;

  close(): void;
}
