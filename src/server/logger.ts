import pino, { type Logger } from 'pino';

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

export interface LoggerOptions {
  level?: string;
  /** Also write JSON logs to this file, rotated daily and at 10 MB (pino-roll). */
  file?: string;
  /** Human-readable output (pino-pretty); default: when stdout is a TTY. */
  pretty?: boolean;
  /** Write to this stream instead of stdout (tests). */
  destination?: NodeJS.WritableStream;
}

/** The server's root logger: JSON lines, or pino-pretty on a terminal. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'securechat' },
  };
  if (options.destination) {
    return pino(base, options.destination as pino.DestinationStream);
  }
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  if (options.file) {
    const stdoutTarget = pretty
      ? {
          target: 'pino-pretty',
          level: base.level,
          options: {
            colorize: true,
            translateTime: 'SYS:HH:MM:ss',
            ignore: 'pid,hostname,service',
          },
        }
      : { target: 'pino/file', level: base.level, options: { destination: 1 } };
    return pino({
      ...base,
      transport: {
        targets: [
          stdoutTarget,
          {
            target: 'pino-roll',
            level: base.level,
            options: {
              file: options.file,
              frequency: 'daily',
              size: '10m',
              mkdir: true,
              limit: { count: 14 },
            },
          },
        ],
      },
    });
  }
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' },
      },
    });
  }
  return pino(base);
}
