import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_MAILBOX_PAGE_BYTES,
  DEFAULT_MAILBOX_PAGE_MESSAGES,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_PORT,
  MAX_MAX_LINE_BYTES,
  MIN_MAX_LINE_BYTES,
  MIN_V1_IDLE_TIMEOUT_MS,
} from '../protocol/limits.js';

/** Everything `securechat serve` can be told. Defaults below; see `--help`. */
export interface ServerConfig {
  host: string;
  port: number;
  certPath: string;
  keyPath: string;
  maxLineBytes: number;
  handshakeTimeoutMs: number;
  helloTimeoutMs: number;
  /**
   * Bytes queued for one client above which traffic from peers is not queued for it (the
   * copy is dropped, the sender told) and its own input is paused until it reads.
   */
  maxSendQueueBytes: number;
  /** A client whose queue stays full this long while peers keep sending is disconnected. */
  slowReaderGraceMs: number;
  /** After a fatal error the server stops reading and closes the connection within this. */
  closeGraceMs: number;
  /** Where persistent state lives (identity bindings, rooms). `:memory:` keeps it in RAM. */
  dataPath: string;
  logLevel: string;
  /** Optional log file (rotated by size and daily); stdout logging continues. */
  logFile?: string;
  /** Security events also go here, apart from the main log; default `security.log` beside `logFile`. */
  securityLogFile?: string;
  /** Log lines one session may cause in a burst, and per minute after it (the rest is counted). */
  sessionLogBurst: number;
  sessionLogPerMinute: number;
  /**
   * Peer addresses that stand for many clients (a forwarder such as the ngrok agent without
   * the PROXY protocol): per-address quotas, lockouts and penalties key on the identity
   * instead. Addresses a trusted PROXY header supplies are always real.
   */
  sharedAddresses: string[];
  /** Connections open at once, all sources together. */
  maxConnections: number;
  /** Connections open at once from one address. */
  maxConnectionsPerIp: number;
  /** Per-connection token buckets; `rateLimit: false` disables them (benchmarks). */
  rateLimit: boolean;
  framesPerSecond: number;
  frameBurst: number;
  bytesPerSecond: number;
  byteBurst: number;
  /** Rate-limited frames per 10 s that get a connection closed as abusive. */
  abuseLimit: number;
  /** Abuse disconnects from one address within `penaltyMs` before it is refused. */
  strikes: number;
  penaltyMs: number;
  /** v2 sessions silent (no frame, not even ping) this long are closed; 0 disables. */
  idleTimeoutMs: number;
  /** v1 sessions (seed clients never ping) silent this long are closed; 0 disables, else ≥ 1 h. */
  v1IdleTimeoutMs: number;
  /** Forwarders allowed to send a PROXY protocol header (e.g. the ngrok agent's address). */
  trustedProxies: string[];
  /**
   * Answer a plaintext client (HTTP, nc) in plain text once OpenSSL refused its first record
   * (either way OpenSSL judges the first bytes: JS only reads them and hands them over).
   * false: dropped without an answer.
   */
  plaintextReply: boolean;
  /** `host:port` of the Prometheus admin listener; undefined = off. */
  metrics?: string;
  /** `redis://HOST:PORT[/DB]` (or `rediss://`) of the Redis shared by a cluster; undefined = one process, SQLite. */
  redis?: string;
  /** Cluster heartbeat: a node silent for two beats is gone, its users leave within three. */
  clusterHeartbeatMs: number;
  /** How long a sender waits for another node to confirm a relay before it is told it failed. */
  clusterRelayTimeoutMs: number;
  /** At start, how long to keep retrying an unreachable `redis` before giving up; 0 = forever. */
  redisWaitMs: number;
  /** Messages kept for one offline v2 recipient. */
  mailboxPerRecipient: number;
  /** Messages one sender may leave for one offline recipient. */
  mailboxPerSender: number;
  /** How long stored messages are kept. */
  mailboxTtlMs: number;
  /** Largest message stored for an offline recipient (bytes of the stored line). */
  mailboxMessageMaxBytes: number;
  /** Bytes stored for one recipient, from one sender identity, from one address, in all. */
  mailboxRecipientBytes: number;
  mailboxSenderBytes: number;
  mailboxAddressBytes: number;
  mailboxTotalBytes: number;
  /** Messages are stored only for identities seen within this. */
  mailboxRecentMs: number;
  /** Stored messages per delivery page, and bytes per page (next page after `fetched`). */
  mailboxPageMessages: number;
  mailboxPageBytes: number;
  /** Rooms one identity may own, and rooms in all. */
  roomsPerIdentity: number;
  maxRooms: number;
  /** Rooms empty this long are deleted (the lobby and rooms owned by an admin never). */
  roomTtlMs: number;
  /**
   * The chunk store of file transfer: its directory ('' = `files` beside `dataPath`; none,
   * and no `files` capability, when `dataPath` is `:memory:` and this is '').
   */
  filesDir: string;
  /** Largest file (plaintext bytes) a client may upload. */
  maxFileBytes: number;
  /** How long an uploaded file is kept (it goes earlier once every recipient has it). */
  fileTtlMs: number;
  /** Sealed bytes one identity may have in the chunk store, and all identities together. */
  fileQuotaPerIdentity: number;
  fileQuotaTotal: number;
  /** Per-connection budget of chunk uploads (`fput` lines, `fputb` with bodies) and `fget`s, apart from the chat rate limit. */
  fileBytesPerSecond: number;
  fileByteBurst: number;
  /** Room password checks waiting for the hashing worker before new ones get E_BUSY. */
  passwordQueue: number;
  /** Names one identity may hold, and new names per identity per day. */
  namesPerIdentity: number;
  newNamesPerIdentity: number;
  /** New names (v2 bindings and v1 names) per real address per day, and in all per hour. */
  newNamesPerAddress: number;
  newNamesPerHour: number;
  /** A name not used after its first day is freed this long after its last use. */
  nameTrialTtlMs: number;
  /** A name used on two days or more is freed this long after its last use. */
  nameTtlMs: number;
  /** Bundle requests per requesting identity per minute. */
  bundlesPerMinute: number;
  /** One-time prekeys handed out per target identity per hour (bundles after that come without). */
  bundleOpksPerTarget: number;
  /** Room every v2 client with the `rooms` capability joins; undefined = no lobby. */
  lobby?: string;
  /** Identity fingerprints of server administrators (MOTD, power over every room). */
  admins: string[];
  /** Wrong room passwords from one address before the lockout. */
  roomPasswordAttempts: number;
  /** Window in which wrong room passwords are counted. */
  roomPasswordWindowMs: number;
  /** Lockout after too many wrong room passwords. */
  roomLockoutMs: number;
}

export const DEFAULT_SEND_QUEUE_BYTES = 1024 * 1024;
/** Smallest send queue accepted (well above a socket's 16 KiB high-water mark). */
export const MIN_SEND_QUEUE_BYTES = 64 * 1024;
const KIB = 1024;
const MIB = 1024 * KIB;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const defaultServerConfig: ServerConfig = {
  host: '0.0.0.0',
  port: DEFAULT_PORT,
  certPath: 'certs/server.crt',
  keyPath: 'certs/server.key',
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
  helloTimeoutMs: DEFAULT_HELLO_TIMEOUT_MS,
  maxSendQueueBytes: DEFAULT_SEND_QUEUE_BYTES,
  slowReaderGraceMs: 30_000,
  closeGraceMs: 1000,
  dataPath: 'data/securechat.db',
  logLevel: 'info',
  sessionLogBurst: 30,
  sessionLogPerMinute: 30,
  sharedAddresses: ['127.0.0.1', '::1'],
  maxConnections: 4096,
  maxConnectionsPerIp: 64,
  rateLimit: true,
  framesPerSecond: 50,
  frameBurst: 200,
  bytesPerSecond: 1024 * 1024,
  byteBurst: 4 * 1024 * 1024,
  abuseLimit: 200,
  strikes: 5,
  penaltyMs: 5 * 60_000,
  idleTimeoutMs: 5 * MINUTE,
  v1IdleTimeoutMs: MIN_V1_IDLE_TIMEOUT_MS,
  trustedProxies: [],
  plaintextReply: true,
  clusterHeartbeatMs: 5000,
  clusterRelayTimeoutMs: 5000,
  redisWaitMs: 0,
  mailboxPerRecipient: 1000,
  mailboxPerSender: 200,
  mailboxTtlMs: 7 * DAY,
  mailboxMessageMaxBytes: 32 * KIB,
  mailboxRecipientBytes: 4 * MIB,
  mailboxSenderBytes: 2 * MIB,
  mailboxAddressBytes: 8 * MIB,
  mailboxTotalBytes: 256 * MIB,
  mailboxRecentMs: 30 * DAY,
  mailboxPageMessages: DEFAULT_MAILBOX_PAGE_MESSAGES,
  mailboxPageBytes: DEFAULT_MAILBOX_PAGE_BYTES,
  roomsPerIdentity: 10,
  maxRooms: 1000,
  roomTtlMs: 7 * DAY,
  passwordQueue: 8,
  filesDir: '',
  maxFileBytes: 100 * MIB,
  fileTtlMs: 48 * HOUR,
  fileQuotaPerIdentity: 1024 * MIB,
  fileQuotaTotal: 10 * 1024 * MIB,
  fileBytesPerSecond: 64 * MIB,
  fileByteBurst: 16 * MIB,
  namesPerIdentity: 5,
  newNamesPerIdentity: 5,
  newNamesPerAddress: 20,
  newNamesPerHour: 500,
  nameTrialTtlMs: 7 * DAY,
  nameTtlMs: 365 * DAY,
  bundlesPerMinute: 30,
  bundleOpksPerTarget: 50,
  lobby: '#lobby',
  admins: [],
  roomPasswordAttempts: 5,
  roomPasswordWindowMs: 15 * 60_000,
  roomLockoutMs: 15 * 60_000,
};

export class ConfigError extends Error {
  readonly code = 'E_CONFIG';
}

/** Parses a port number (0 = any free port). */
export function parsePort(text: string, label = 'port'): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text.trim()) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${label} must be an integer from 0 to 65535, got "${text}"`);
  }
  return port;
}

/** Parses a byte size: `65536`, `64k`, `64KiB`, `1m`, `1MiB`, `10g`. */
export function parseByteSize(text: string, label: string): number {
  const match = /^(\d{1,12})\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (!match) throw new ConfigError(`${label} must be a size like 65536, 64k or 1m; got "${text}"`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const factor = unit.startsWith('k')
    ? 1024
    : unit.startsWith('m')
      ? 1024 * 1024
      : unit.startsWith('g')
        ? 1024 * 1024 * 1024
        : 1;
  return Number(match[1]) * factor;
}

/** Parses a duration: `10000` (ms), `10s`, `500ms`, `2m`. */
export function parseDuration(text: string, label: string): number {
  const match = /^(\d{1,9})\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  if (!match) throw new ConfigError(`${label} must be a duration like 10s or 500ms; got "${text}"`);
  const unit = (match[2] ?? 'ms').toLowerCase();
  const factor =
    unit === 's'
      ? 1000
      : unit === 'm'
        ? 60_000
        : unit === 'h'
          ? 3_600_000
          : unit === 'd'
            ? 86_400_000
            : 1;
  return Number(match[1]) * factor;
}

/** Parses a positive integer option. */
export function parseCount(text: string, label: string): number {
  if (!/^\d{1,9}$/.test(text.trim()))
    throw new ConfigError(`${label} must be a whole number; got "${text}"`);
  return Number(text);
}

/** Parses `host:port` (IPv6 in brackets) for the admin listener; a bare port means loopback. */
export function parseListenAddress(text: string, label: string): { host: string; port: number } {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { host: '127.0.0.1', port: parsePort(trimmed, label) };
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(trimmed) ?? /^([^:\s]+):(\d+)$/.exec(trimmed);
  if (!match)
    throw new ConfigError(`${label} must be host:port (e.g. 127.0.0.1:9464); got "${text}"`);
  return { host: match[1]!, port: parsePort(match[2]!, label) };
}

/** Checks cross-field constraints after flags and environment have been merged. */
export function validateServerConfig(config: ServerConfig): ServerConfig {
  if (config.maxLineBytes < MIN_MAX_LINE_BYTES || config.maxLineBytes > MAX_MAX_LINE_BYTES) {
    throw new ConfigError(
      `--max-line must be between ${MIN_MAX_LINE_BYTES} and ${MAX_MAX_LINE_BYTES} bytes`,
    );
  }
  if (config.handshakeTimeoutMs < 100 || config.helloTimeoutMs < 100) {
    throw new ConfigError('timeouts must be at least 100ms');
  }
  if (config.maxSendQueueBytes < Math.max(config.maxLineBytes, MIN_SEND_QUEUE_BYTES)) {
    throw new ConfigError(
      `--max-send-queue must be at least --max-line and ${MIN_SEND_QUEUE_BYTES / KIB}k`,
    );
  }
  if (config.v1IdleTimeoutMs !== 0 && config.v1IdleTimeoutMs < MIN_V1_IDLE_TIMEOUT_MS) {
    throw new ConfigError(
      '--v1-idle-timeout must be 0 (never) or at least 1h: seed clients never ping',
    );
  }
  if (config.mailboxPageBytes < config.maxLineBytes) {
    throw new ConfigError('--mailbox-page-bytes must be at least --max-line');
  }
  if (config.rateLimit && config.byteBurst < config.maxLineBytes + 1) {
    throw new ConfigError(
      '--byte-burst must be larger than --max-line (one line must fit in a burst)',
    );
  }
  for (const [label, value] of [
    ['--max-connections', config.maxConnections],
    ['--max-per-ip', config.maxConnectionsPerIp],
    ['--frames-per-second', config.framesPerSecond],
    ['--frame-burst', config.frameBurst],
    ['--bytes-per-second', config.bytesPerSecond],
    ['--mailbox-page', config.mailboxPageMessages],
    ['--password-queue', config.passwordQueue],
    ['--names-per-identity', config.namesPerIdentity],
    ['--bundles-per-minute', config.bundlesPerMinute],
    ['--session-log-burst', config.sessionLogBurst],
    ['--max-file-size', config.maxFileBytes],
    ['--file-ttl', config.fileTtlMs],
  ] as const) {
    if (!(value >= 1)) throw new ConfigError(`${label} must be at least 1`);
  }
  if (config.fileByteBurst < config.maxLineBytes + 1)
    throw new ConfigError('--file-byte-burst must be larger than --max-line');
  if (config.redis !== undefined && config.redis !== 'embedded') validateRedisUrl(config.redis);
  return config;
}

/**
 * `redis://HOST:PORT[/DB]` on loopback, else `rediss://` (TLS) with a user (an ACL user,
 * not the default one): chat metadata and stored messages must not cross a network in clear.
 */
export function validateRedisUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`--redis must be a URL like redis://127.0.0.1:6379/0; got "${text}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new ConfigError('--redis must start with redis:// or rediss://');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  if (!loopback && (url.protocol !== 'rediss:' || url.username === ''))
    throw new ConfigError(
      '--redis off loopback needs rediss:// (TLS) and an ACL user: rediss://USER:PASSWORD@HOST:PORT',
    );
}
