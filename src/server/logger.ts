import { chmodSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Fields that may hold key material or ciphertext: never written to logs. */
export const REDACTED_PATHS = [
  'cipher',
  'nonce',
  'pub',
  'header',
  'key',
  'secret',
  'frame.cipher',
  'frame.nonce',
  'frame.pub',
  'frame.header',
  '*.cipher',
  '*.nonce',
  '*.secretKey',
];

/** Characters of server-readable chat text a log line may carry. */
export const LOG_TEXT_PREFIX = 32;

/**
 * Events that also go to the security stream (its own file, its own rotation), so a flood
 * of ordinary lines can never rotate them away. Server start and stop are there too, to
 * show when the record begins and ends.
 */
export const SECURITY_EVENTS: ReadonlySet<string> = new Set([
  'server.listening',
  'server.stopped',
  'config.shared_address',
  'address.shared',
  'process.error',
  'internal_error',
  'hello.refused',
  'name.takeover_attempt',
  'name.quota',
  'frame.rejected',
  'spoof.attempt',
  'rate_limited',
  'rate_limit.disconnect',
  'slow_reader.dropped',
  'address.penalized',
  'identity.penalized',
  'connection.refused',
  'plaintext.probe',
  'tls.failure',
  'room.lockout',
  'room.lockout_refused',
  'room.bad_password',
  'room.quota',
  'room.password',
  'room.ban',
  'room.kick',
  'bundle.limited',
  'mailbox.refused',
]);

/** The `event` of a pino JSON line (pino escapes quotes inside strings, so this cannot match inside one). */
const EVENT_FIELD = /"event":"([A-Za-z0-9_.]{1,64})"/;

/** A stream that passes on only lines whose `event` is a security event. */
function securityFilter(destination: { write(line: string): unknown }): DestinationStream {
  return {
    write(line: string) {
      const event = EVENT_FIELD.exec(line)?.[1];
      if (event !== undefined && SECURITY_EVENTS.has(event)) destination.write(line);
    },
  };
}

export interface LogFiles {
  main: DestinationStream;
  security: DestinationStream;
}

export interface LoggerOptions {
  level?: string;
  /** Human-readable stdout (pino-pretty); default: when stdout is a TTY. */
  pretty?: boolean;
  /** Write to this stream instead of stdout (tests). */
  destination?: NodeJS.WritableStream;
  /** Security events also go here (tests; the daemon uses its security log file). */
  securityDestination?: NodeJS.WritableStream;
  /** Log files opened with {@link openLogFiles}. */
  files?: LogFiles;
}

type RollOptions = {
  file: string;
  frequency: string;
  size: string;
  limit: { count: number };
  mode: number;
};
type RollStream = DestinationStream & {
  file?: string;
  once(event: 'ready', listener: () => void): unknown;
};
type PinoRoll = (options: RollOptions) => Promise<RollStream>;

/**
 * pino-roll, loaded only for `--log-file`: it loads all of date-fns (≈ 250 CommonJS files),
 * which a daemon logging to stdout never uses.
 */
let pinoRoll: PinoRoll | undefined;

async function openRolling(file: string, keep: number): Promise<RollStream> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  pinoRoll ??= createRequire(import.meta.url)('pino-roll') as PinoRoll;
  const stream = await pinoRoll({
    file,
    frequency: 'daily',
    size: '10m',
    limit: { count: keep },
    mode: 0o600,
  });
  // A file that existed before keeps the mode it had: log files hold metadata, so 0600.
  stream.once('ready', () => {
    if (stream.file) chmodSync(stream.file, 0o600);
  });
  return stream;
}

/** The default security log: `security.log` beside the main log file. */
export function defaultSecurityLogFile(logFile: string): string {
  return join(dirname(logFile), 'security.log');
}

/**
 * Opens the main log file (rotated daily and at 10 MB, 14 kept) and the security log
 * (same rotation, 90 kept, only security events): files 0600 in 0700 directories.
 */
export async function openLogFiles(file: string, securityFile?: string): Promise<LogFiles> {
  return {
    main: await openRolling(file, 14),
    security: await openRolling(securityFile ?? defaultSecurityLogFile(file), 90),
  };
}

/**
 * pino-pretty for a terminal: one line per event (its fields inline, not one per line),
 * led by the stable `event` name, so lines with an empty message still say what happened.
 */
export const PRETTY_OPTIONS = {
  colorize: true,
  singleLine: true,
  translateTime: 'SYS:HH:MM:ss',
  messageFormat: '{if event}{event}{end}{if msg} {msg}{end}',
  ignore: 'pid,hostname,service,event',
} as const;

/** The server's root logger: JSON lines (or pino-pretty on a terminal), plus the security stream. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const base = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'securechat' },
  };
  const pretty =
    options.destination === undefined && (options.pretty ?? Boolean(process.stdout.isTTY));
  const main: DestinationStream =
    (options.destination as DestinationStream | undefined) ??
    (pretty
      ? pino.transport({
          target: 'pino-pretty',
          options: PRETTY_OPTIONS,
        })
      : pino.destination(1));
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: main }];
  if (options.files) streams.push({ level: level as pino.Level, stream: options.files.main });
  const security = options.securityDestination ?? options.files?.security;
  if (security)
    streams.push({
      level: level as pino.Level,
      stream: securityFilter(security as { write(line: string): unknown }),
    });
  return pino(base, pino.multistream(streams));
}
