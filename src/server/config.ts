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
  const match = /^(\d{1,9})\s*(ms|s|m|h)?$/i.exec(text.trim());
  if (!match) throw new ConfigError(`${label} must be a duration like 10s or 500ms; got "${text}"`);
  const unit = (match[2] ?? 'ms').toLowerCase();
  const factor = unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 1;
  return Number(match[1]) * factor;
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
  return config;
}
