import type { OneTimePrekey, SignedPrekeyKind } from '../../protocol/index.js';

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

/** A signed prekey as its owner uploaded it (Base64 fields; see protocol/signed-prekey.ts). */
export interface StoredSignedPrekey {
  id: number;
  created: number;
  pub: string;
  /** Signature over kind, id, creation time and key. */
  sig: string;
  /** Signature over the key alone (`x25519-pub` context), for clients without `spk`. */
  pubsig: string;
}

/** A message kept for an offline recipient. */
export interface StoredMessage {
  seq: number;
  /** The relay line as it will be delivered (without its `seq`). */
  line: string;
}

/** A message to store, with who is charged for it. */
export interface NewStoredMessage {
  recipient: string;
  sender: string;
  /** Quota key of the sender: its identity key, or a shared key for v1 senders. */
  senderKey: string;
  /** Quota key of the sender's address; absent when the address is shared by many clients. */
  senderAddress?: string;
  line: string;
}

/** Bounds on stored messages: counts per recipient and pair, bytes per recipient, sender, address and in all. */
export interface MailboxQuota {
  perRecipient: number;
  perSender: number;
  messageMaxBytes: number;
  recipientBytes: number;
  senderBytes: number;
  addressBytes: number;
  totalBytes: number;
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

export type EnqueueRefusal =
  | 'too_large'
  | 'recipient_full'
  | 'sender_quota'
  | 'address_quota'
  | 'server_full';

export type EnqueueResult = { ok: true; seq: number } | { ok: false; reason: EnqueueRefusal };

/** Stored messages (SQLite today, a broker tomorrow). */
export interface MailboxStore {
  /** Bytes stored in all. */
  readonly totalBytes: number;
  /** Stores a message for an offline recipient, within the quotas. */
  enqueue(message: NewStoredMessage, now: number, quota: MailboxQuota): EnqueueResult;
  /** Messages after `afterSeq` waiting for `recipient`, oldest first (expired ones excluded). */
  pending(recipient: string, afterSeq: number, notBefore: number, limit: number): StoredMessage[];
  /** Deletes the recipient's messages with seq ≤ `upto`; returns how many. */
  acknowledge(recipient: string, upto: number): number;
  /** Deletes messages older than `before`; returns how many. */
  expire(before: number): number;
  /** Deletes everything stored for `recipient`; returns how many. */
  dropRecipient(recipient: string): number;
}

/** Rooms, roles and bans. */
export interface RoomStore {
  get(room: string): StoredRoom | undefined;
  /** Rooms sorted by name (case-insensitively), after `after`, at most `limit`. */
  list(after: string | undefined, limit: number): StoredRoom[];
  count(): number;
  /** Rooms `identityKey` owns. */
  countOwned(identityKey: string): number;
  /** Creates the room with `owner` (identity key, if any) as owner; false if it exists. Atomic. */
  create(room: string, owner: string | undefined, now: number, passwordHash?: string): boolean;
  setTopic(room: string, topic: string): void;
  setPassword(room: string, passwordHash: string | undefined): void;
  /** When the room's last member left; undefined when someone is in it. */
  markEmpty(room: string, since: number | undefined): void;
  markAllEmpty(since: number): void;
  /** Rooms empty since before `before`, with their owners' identity keys. */
  emptySince(before: number): Array<{ name: string; owners: string[] }>;
  delete(room: string): void;
  getRole(room: string, identityKey: string): RoomRole | undefined;
  setRole(room: string, identityKey: string, role: RoomRole | undefined): void;
  /** The ban in force (expired bans are removed and ignored). */
  getBan(room: string, identityKey: string, now: number): RoomBan | undefined;
  setBan(room: string, identityKey: string, ban: RoomBan | undefined): void;
}

/** How long names live when nobody uses them. */
export interface NameLifetimes {
  /** A name not used after its first day: freed this long after its last use. */
  trialTtlMs: number;
  /** A name used on two days or more: freed this long after its last use. */
  ttlMs: number;
}

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
  /** Marks names as seen now (names of sessions that are online). */
  touchBindings(names: readonly string[], now: number): void;
  /** Names bound to `identityKey`. */
  countBindings(identityKey: string): number;
  /**
   * Frees names unused for their lifetime (with their prekeys and stored messages) unless
   * `keep` says otherwise; returns the freed names.
   */
  expireBindings(now: number, lifetimes: NameLifetimes, keep: (name: string) => boolean): string[];

  /**
   * Adds one-time prekeys (ids already stored are replaced; with `replace`, every earlier
   * prekey is dropped first); returns how many are stored.
   */
  addPrekeys(name: string, keys: OneTimePrekey[], max: number, replace?: boolean): number;
  /** Removes and returns one prekey (oldest first); never the same one twice. */
  takePrekey(name: string): OneTimePrekey | undefined;
  countPrekeys(name: string): number;

  /**
   * Makes `prekey` the current signed prekey of `name` (the current one becomes the
   * previous, and the one before is dropped) when it is newer than the current one; the
   * same key again changes nothing; an older or conflicting one is refused. Returns the
   * current one after the call and whether `prekey` is it.
   */
  putSignedPrekey(
    name: string,
    kind: SignedPrekeyKind,
    prekey: StoredSignedPrekey,
    now: number,
  ): { current: StoredSignedPrekey; accepted: boolean };
  /** The current (or previous) signed prekey of `name`. */
  signedPrekey(
    name: string,
    kind: SignedPrekeyKind,
    slot?: 'current' | 'previous',
  ): StoredSignedPrekey | undefined;

  readonly mailbox: MailboxStore;
  readonly rooms: RoomStore;

  getSetting(key: string): string | undefined;
  setSetting(key: string, value: string): void;

  close(): void;
}
