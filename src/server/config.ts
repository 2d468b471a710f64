import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_PORT,
  MAX_MAX_LINE_BYTES,
  MIN_MAX_LINE_BYTES,
} from '../protocol/index.js';

/** Everything `securechat serve` can be told. Defaults below; see `--help`. */
export interface ServerConfig {
  host: string;
  port: number;
  certPath: string;
  keyPath: string;
  maxLineBytes: number;
  handshakeTimeoutMs: number;
  helloTimeoutMs: number;
  /** Bytes that may be queued for one slow reader before it is dropped. */
  maxSendQueueBytes: number;
  /** Where persistent state lives (identity bindings, rooms). `:memory:` keeps it in RAM. */
  dataPath: string;
  logLevel: string;
  /** Optional log file (rotated by size and daily); stdout logging continues. */
  logFile?: string;
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
  /** Forwarders allowed to send a PROXY protocol header (e.g. the ngrok agent's address). */
  trustedProxies: string[];
  /** `host:port` of the Prometheus admin listener; undefined = off. */
  metrics?: string;
  /** Messages kept for one offline v2 recipient. */
  mailboxPerRecipient: number;
  /** Messages one sender may leave for one offline recipient. */
  mailboxPerSender: number;
  /** How long stored messages are kept. */
  mailboxTtlMs: number;
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

export const defaultServerConfig: ServerConfig = {
  host: '0.0.0.0',
  port: DEFAULT_PORT,
  certPath: 'certs/server.crt',
  keyPath: 'certs/server.key',
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
  helloTimeoutMs: DEFAULT_HELLO_TIMEOUT_MS,
  maxSendQueueBytes: DEFAULT_SEND_QUEUE_BYTES,
  dataPath: 'data/securechat.db',
  logLevel: 'info',
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
  idleTimeoutMs: 5 * 60_000,
  trustedProxies: [],
  mailboxPerRecipient: 1000,
  mailboxPerSender: 200,
  mailboxTtlMs: 7 * 24 * 3_600_000,
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

/** Parses a byte size: `65536`, `64k`, `64KiB`, `1m`, `1MiB`. */
export function parseByteSize(text: string, label: string): number {
  const match = /^(\d{1,12})\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(text.trim());
  if (!match) throw new ConfigError(`${label} must be a size like 65536, 64k or 1m; got "${text}"`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const factor = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
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
  if (config.maxSendQueueBytes < config.maxLineBytes) {
    throw new ConfigError('--max-send-queue must be at least --max-line');
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
  ] as const) {
    if (!(value >= 1)) throw new ConfigError(`${label} must be at least 1`);
  }
  return config;
}
