import type { KemPrekeyWire, OneTimePrekey, SignedPrekeyKind } from '../../protocol/index.js';

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

/** A signed prekey as its owner uploaded it (Base64 fields; see protocol/prekeys.ts). */
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
  | 'no_mailbox'
  | 'recipient_full'
  | 'sender_quota'
  | 'address_quota'
  | 'server_full';

export type EnqueueResult = { ok: true; seq: number } | { ok: false; reason: EnqueueRefusal };

/**
 * Who may receive stored messages: a registered identity that announced `mailbox` in its
 * last hello and was seen since `seenSince`. Checked in the same transaction as the quotas.
 */
export interface MailboxRecipientRule {
  capability: string;
  seenSince: number;
}

/**
 * Stored messages (SQLite today, a broker tomorrow). Every method is async so the store can
 * sit on a network; each is one atomic step.
 */
export interface MailboxStore {
  /** Bytes stored in all. */
  totalBytes(): Promise<number>;
  /**
   * Stores a message for an offline recipient, atomically within the quotas (and, with
   * `recipient`, only for a recipient the rule allows): two senders racing for the last
   * byte of a quota cannot both get it.
   */
  enqueue(
    message: NewStoredMessage,
    now: number,
    quota: MailboxQuota,
    recipient?: MailboxRecipientRule,
  ): Promise<EnqueueResult>;
  /** Messages after `afterSeq` waiting for `recipient`, oldest first (expired ones excluded). */
  pending(
    recipient: string,
    afterSeq: number,
    notBefore: number,
    limit: number,
  ): Promise<StoredMessage[]>;
  /** Deletes the recipient's messages with seq ≤ `upto`; returns how many. */
  acknowledge(recipient: string, upto: number): Promise<number>;
  /**
   * Deletes messages older than `before` (and fetched notices, where the store does not
   * expire them by itself: Redis keys carry their TTL); returns how many messages.
   */
  expire(before: number): Promise<number>;
  /** Deletes everything stored for `recipient` (and notices kept for it); returns how many. */
  dropRecipient(recipient: string): Promise<number>;
  /**
   * Keeps a notice for an offline `sender`: its stored message `id` was fetched. At most
   * `limits.max` per sender (the oldest go first), each for `limits.ttlMs`.
   */
  keepFetched(sender: string, id: string, now: number, limits: FetchedNoticeLimits): Promise<void>;
  /** Returns and deletes the notices kept for `sender` since `notBefore`, oldest first. */
  takeFetched(sender: string, notBefore: number): Promise<string[]>;
}

/** Bounds on the fetched notices kept for offline senders. */
export interface FetchedNoticeLimits {
  /** Notices per sender. */
  max: number;
  /** How long one is kept (the mailbox TTL). */
  ttlMs: number;
}

/** Rooms, roles and bans. */
export interface RoomStore {
  get(room: string): Promise<StoredRoom | undefined>;
  /** Rooms sorted by name (case-insensitively), after `after`, at most `limit`. */
  list(after: string | undefined, limit: number): Promise<StoredRoom[]>;
  count(): Promise<number>;
  /** Rooms `identityKey` owns. */
  countOwned(identityKey: string): Promise<number>;
  /**
   * Creates the room with `owner` (identity key, if any) as owner, atomically within the
   * limits when given (rooms in all, rooms per owner); `exists` when it already does.
   */
  create(
    room: string,
    owner: string | undefined,
    now: number,
    passwordHash?: string,
    limits?: RoomQuota,
  ): Promise<RoomCreation>;
  setTopic(room: string, topic: string): Promise<void>;
  setPassword(room: string, passwordHash: string | undefined): Promise<void>;
  /** When the room's last member left; undefined when someone is in it. */
  markEmpty(room: string, since: number | undefined): Promise<void>;
  markAllEmpty(since: number): Promise<void>;
  /** Rooms empty since before `before`, with their owners' identity keys. */
  emptySince(before: number): Promise<Array<{ name: string; owners: string[] }>>;
  delete(room: string): Promise<void>;
  getRole(room: string, identityKey: string): Promise<RoomRole | undefined>;
  setRole(room: string, identityKey: string, role: RoomRole | undefined): Promise<void>;
  /** The ban in force (expired bans are removed and ignored). */
  getBan(room: string, identityKey: string, now: number): Promise<RoomBan | undefined>;
  setBan(room: string, identityKey: string, ban: RoomBan | undefined): Promise<void>;
}

/** Caps on creating rooms, checked with the creation. */
export interface RoomQuota {
  maxRooms: number;
  roomsPerIdentity: number;
}

export type RoomCreation = 'created' | 'exists' | 'server_full' | 'owner_full';

/** How long names live when nobody uses them. */
export interface NameLifetimes {
  /** A name not used after its first day: freed this long after its last use. */
  trialTtlMs: number;
  /** A name used on two days or more: freed this long after its last use. */
  ttlMs: number;
}

/** Outcome of {@link ServerStore.claimName}. */
export type NameClaim =
  | { ok: true; binding: IdentityBinding; created: boolean }
  | { ok: false; reason: 'bound'; binding: IdentityBinding }
  | { ok: false; reason: 'identity_cap' };

/** Wrong-password lockout policy (see rooms/lockout.ts). */
export interface LockoutPolicy {
  attempts: number;
  windowMs: number;
  lockMs: number;
}

/**
 * Room-password attempts per (source, room): reserved before the password is hashed, so
 * concurrent guesses — from one node or several — cannot get past the limit.
 */
export interface LockoutStore {
  /** Milliseconds left in a lockout, or 0. */
  lockedFor(source: string, room: string, now: number, policy: LockoutPolicy): Promise<number>;
  /** Counts an attempt before it is checked; false when the source is (or would be) locked out. Atomic. */
  reserve(source: string, room: string, now: number, policy: LockoutPolicy): Promise<boolean>;
  /** Settles a reserved attempt; true when this failure started a lockout. */
  settle(
    source: string,
    room: string,
    ok: boolean,
    now: number,
    policy: LockoutPolicy,
  ): Promise<boolean>;
}

/** Outcome of {@link ServerStore.takeKemPrekey}. */
export interface KemPrekeyTake {
  prekey: KemPrekeyWire | undefined;
  /** One-time KEM prekeys left after this one. */
  left: number;
}

/** Outcome of {@link ServerStore.takePrekey}. */
export interface PrekeyTake {
  prekey: OneTimePrekey | undefined;
  /** One-time prekeys left after this one. */
  left: number;
}

/**
 * What the server persists and shares between sessions. Every method is async, so the
 * embedded SQLite store can be replaced by a network store (Redis for scale-out) without
 * touching sessions; every check-then-change is one atomic method (claim a name, take a
 * one-time prekey, reserve a password attempt, enqueue within quota, create a room within
 * quota), so interleaved sessions cannot race past a limit.
 */
export interface ServerStore {
  /** Binding of a name (case-insensitive), if any. */
  getBinding(name: string): Promise<IdentityBinding | undefined>;
  /**
   * Whether a name is bound, answered at once (synchronous by contract): only a store that
   * can answer without waiting has it (SQLite). A v1 hello is then admitted in the turn its
   * line arrived, without an await (admission.ts `admitV1Now`).
   */
  hasBindingNow?(name: string): boolean;
  /**
   * Binds `name` to `identityKey` on first use, atomically: `bound` when another identity
   * holds it, `identity_cap` when this identity already holds `namesPerIdentity` names
   * (a name it holds already is always granted).
   */
  claimName(
    name: string,
    identityKey: string,
    now: number,
    limits: { namesPerIdentity: number },
  ): Promise<NameClaim>;
  /** Records a successful v2 login: last seen, published keys and capabilities. */
  touchBinding(
    name: string,
    now: number,
    published?: { pub: string; pubsig: string; caps: string[] },
  ): Promise<void>;
  /** Marks names as seen now (names of sessions that are online). */
  touchBindings(names: readonly string[], now: number): Promise<void>;
  /** Names bound to `identityKey`. */
  countBindings(identityKey: string): Promise<number>;
  /**
   * Frees names unused for their lifetime (with their prekeys and stored messages) unless
   * `keep` says otherwise; returns the freed names.
   */
  expireBindings(
    now: number,
    lifetimes: NameLifetimes,
    keep: (name: string) => boolean,
  ): Promise<string[]>;

  /**
   * Adds one-time prekeys (ids already stored are replaced; with `replace`, every earlier
   * prekey is dropped first); returns how many are stored.
   */
  addPrekeys(
    name: string,
    keys: OneTimePrekey[],
    max: number,
    now: number,
    replace?: boolean,
  ): Promise<number>;
  /** Removes and returns one prekey (oldest first) with the count left; never the same one twice. */
  takePrekey(name: string): Promise<PrekeyTake>;
  countPrekeys(name: string): Promise<number>;

  /**
   * PQXDH: adds signed one-time KEM prekeys (ids already stored are replaced; with
   * `replace`, every earlier one is dropped first), at most `max` kept; returns how many are
   * stored. The signed last-resort KEM prekey is a signed prekey of kind `ml-kem-1024`.
   */
  addKemPrekeys(
    name: string,
    keys: KemPrekeyWire[],
    max: number,
    now: number,
    replace?: boolean,
  ): Promise<number>;
  /** Removes and returns one KEM prekey (oldest first) with the count left; never one twice. */
  takeKemPrekey(name: string): Promise<KemPrekeyTake>;
  countKemPrekeys(name: string): Promise<number>;

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
  ): Promise<{ current: StoredSignedPrekey; accepted: boolean }>;
  /** The current (or previous) signed prekey of `name`. */
  signedPrekey(
    name: string,
    kind: SignedPrekeyKind,
    slot?: 'current' | 'previous',
  ): Promise<StoredSignedPrekey | undefined>;

  readonly mailbox: MailboxStore;
  readonly rooms: RoomStore;
  readonly lockout: LockoutStore;

  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;

  close(): Promise<void>;
}
