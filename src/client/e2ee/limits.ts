/**
 * Bounds on what peers and servers can make a client keep, per client (all peers, rooms and
 * sessions together), not only per peer: a hostile room member or a crowd of throw-away
 * identities cannot grow a client's memory or state store without limit. Each one is named
 * in docs/SECURITY.md with its default. First-contact state (sessions a stranger opened that
 * we never answered) is evicted first.
 */
export interface ClientLimits {
  /** Sessions kept per peer identity (simultaneous initiations make more than one). */
  sessionsPerPeer: number;
  /** Sessions kept in all; the least recently used go first (first-contact ones before others). */
  sessions: number;
  /** Sessions opened by a stranger (no identity remembered for that name) that we never answered. */
  firstContactSessions: number;
  /** Skipped-message keys kept in all sessions together. */
  skippedKeys: number;
  /** ... of which at most this many in first-contact sessions. */
  firstContactSkippedKeys: number;
  /** Skipped-message keys (direct and room) older than this are deleted. */
  skippedKeyMaxAgeMs: number;
  /** Accepted X3DH inits remembered per peer (replays of first messages) and in all. */
  seenInitsPerPeer: number;
  seenInits: number;
  /** Last-accepted-reset times remembered (one per peer). */
  resetRecords: number;
  /** One-time prekey secrets held at most (oldest deleted first). */
  oneTimePrekeySecrets: number;
  /** New one-time prekey secrets made per hour at most, whatever the server claims it holds. */
  oneTimePrekeysPerHour: number;
  /** Room sender keys kept per member and room (a member rotates on departures). */
  senderKeysPerMember: number;
  /** Room sender keys kept in all rooms together. */
  senderKeys: number;
  /** Skipped room message keys kept in all rooms and chains together. */
  roomSkippedKeys: number;
  /** Bytes of room messages waiting for their sender's key, in all rooms together. */
  roomWaitingBytes: number;
}

const DAY_MS = 24 * 3_600_000;

export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimits> = {
  sessionsPerPeer: 4,
  sessions: 1000,
  firstContactSessions: 32,
  skippedKeys: 10_000,
  firstContactSkippedKeys: 1000,
  skippedKeyMaxAgeMs: 30 * DAY_MS,
  seenInitsPerPeer: 512,
  seenInits: 10_000,
  resetRecords: 4096,
  oneTimePrekeySecrets: 400,
  oneTimePrekeysPerHour: 200,
  senderKeysPerMember: 4,
  senderKeys: 2000,
  roomSkippedKeys: 10_000,
  roomWaitingBytes: 4 * 1024 * 1024,
};

/** The defaults with some overridden (tests use small caps). */
export function clientLimits(overrides: Partial<ClientLimits> = {}): ClientLimits {
  return { ...DEFAULT_CLIENT_LIMITS, ...overrides };
}
