import type { ServerConfig } from '../server/config.js';
import { defaultServerConfig as d } from '../server/config.js';
import type { OptionSpec } from './options.js';

/** How a plain option's text becomes its config value. */
export type ValueKind = 'port' | 'bytes' | 'duration' | 'count' | 'text';

/** An option of `securechat serve`; `key` + `kind` map it onto the config without code. */
export interface ServeOptionSpec extends OptionSpec {
  key?: keyof ServerConfig;
  kind?: ValueKind;
}

const KIB = 1024;
const MIB = 1024 * KIB;

/** `65536` → `64k`, `1048576` → `1m` (what --help shows as the default). */
function size(bytes: number): string {
  if (bytes % (1024 * MIB) === 0) return `${bytes / (1024 * MIB)}g`;
  if (bytes % MIB === 0) return `${bytes / MIB}m`;
  if (bytes % KIB === 0) return `${bytes / KIB}k`;
  return String(bytes);
}

/** `300000` → `5m`, `604800000` → `7d`. */
function duration(ms: number): string {
  for (const [unit, factor] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= factor && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
}

/** How a placeholder in a flag becomes a config value: `<bytes>` takes `64k`, `<duration>` `5m`, … */
const KIND_OF = {
  port: 'port',
  file: 'text',
  bytes: 'bytes',
  duration: 'duration',
  n: 'count',
} as const satisfies Record<string, ValueKind>;

/**
 * One option that maps one value onto one config field, written as
 * `--flag <placeholder> configKey: help`; the placeholder names the kind of value
 * ({@link KIND_OF}), so the two cannot disagree, and the type checks the config key.
 */
type Plain = `--${string} <${keyof typeof KIND_OF}> ${keyof ServerConfig & string}: ${string}`;

/** Options that map one value onto one config field; env = SECURECHAT_<FLAG>. */
const PLAIN: Plain[] = [
  '--port <port> port: TCP port (0 = any free port)',
  '--cert <file> certPath: certificate (PEM); generated if missing',
  '--key <file> keyPath: private key (PEM, mode 0600); generated if missing',
  '--data <file> dataPath: persistent state (names, prekeys, stored messages, rooms; 0600); ":memory:" for none',
  '--max-line <bytes> maxLineBytes: longest accepted line from a client (e.g. 64k)',
  '--handshake-timeout <duration> handshakeTimeoutMs: TLS handshake deadline',
  '--hello-timeout <duration> helloTimeoutMs: deadline for a valid hello after the handshake',
  '--idle-timeout <duration> idleTimeoutMs: close v2 sessions silent this long (they ping); 0 = never',
  '--v1-idle-timeout <duration> v1IdleTimeoutMs: close v1 sessions silent this long (seed clients never ping); 0 = never, else at least 1h',
  '--max-send-queue <bytes> maxSendQueueBytes: bytes queued for a client before peer traffic to it is dropped and its input paused',
  '--slow-reader-grace <duration> slowReaderGraceMs: a client whose queue stays full this long while peers send is disconnected',
  '--close-grace <duration> closeGraceMs: after a fatal error, stop reading and close within this',
  '--max-connections <n> maxConnections: connections open at once, all clients',
  '--max-per-ip <n> maxConnectionsPerIp: connections open at once from one address (IPv6: one /64; behind ngrok see --trusted-proxy)',
  '--frames-per-second <n> framesPerSecond: sustained frames per connection',
  '--frame-burst <n> frameBurst: frames per connection in a burst',
  '--bytes-per-second <bytes> bytesPerSecond: sustained bytes per connection',
  '--byte-burst <bytes> byteBurst: bytes per connection in a burst (more than --max-line)',
  '--abuse-limit <n> abuseLimit: rate-limited frames within 10 s that close a connection',
  '--strikes <n> strikes: abusive disconnects from one address (or identity, behind a shared address) before it is refused',
  '--penalty <duration> penaltyMs: how long a repeat offender is refused',
  '--mailbox-size <n> mailboxPerRecipient: messages kept for one offline v2 user',
  '--mailbox-per-sender <n> mailboxPerSender: messages one sender may leave for one offline user',
  '--mailbox-ttl <duration> mailboxTtlMs: how long stored messages are kept',
  '--mailbox-message-max <bytes> mailboxMessageMaxBytes: largest message stored for an offline user',
  '--mailbox-recipient-bytes <bytes> mailboxRecipientBytes: bytes stored for one offline user',
  '--mailbox-sender-bytes <bytes> mailboxSenderBytes: bytes one sender identity may have stored, all recipients together',
  '--mailbox-address-bytes <bytes> mailboxAddressBytes: bytes one address may have stored (not for shared addresses)',
  '--mailbox-total-bytes <bytes> mailboxTotalBytes: bytes stored for everyone together',
  '--mailbox-recent <duration> mailboxRecentMs: store messages only for identities seen within this',
  "--mailbox-page <n> mailboxPageMessages: stored messages per delivery page (the next follows the client's `fetched`)",
  '--mailbox-page-bytes <bytes> mailboxPageBytes: bytes per delivery page',
  '--rooms-per-identity <n> roomsPerIdentity: rooms one identity may own',
  '--max-rooms <n> maxRooms: rooms on the server',
  '--room-ttl <duration> roomTtlMs: rooms empty this long are deleted (not the lobby, not rooms admins own)',
  '--room-password-attempts <n> roomPasswordAttempts: wrong room passwords from one address (or identity) before a lockout',
  '--password-queue <n> passwordQueue: room password checks waiting for the hashing worker before E_BUSY',
  '--names-per-identity <n> namesPerIdentity: names one identity may hold',
  '--new-names-per-identity <n> newNamesPerIdentity: new names one identity may take per day',
  '--new-names-per-address <n> newNamesPerAddress: new names (v1 names included) one address may take per day',
  '--new-names-per-hour <n> newNamesPerHour: new names for everyone together per hour',
  '--name-trial-ttl <duration> nameTrialTtlMs: a name not used after its first day is freed this long after its last use',
  '--name-ttl <duration> nameTtlMs: a name used on two days or more is freed this long after its last use',
  '--bundles-per-minute <n> bundlesPerMinute: bundle requests per requesting identity per minute',
  '--bundle-opks-per-target <n> bundleOpksPerTarget: one-time prekeys handed out per user per hour (then bundles come without)',
  '--files-dir <file> filesDir: chunk store of file transfer (one directory, 0700; "" = "files" beside --data, none with --data :memory:); every node of a cluster must reach it',
  '--max-file-size <bytes> maxFileBytes: largest file a client may send (e.g. 100m, 2g)',
  '--file-ttl <duration> fileTtlMs: how long a sent file is kept (it goes once every recipient has it)',
  '--file-quota <bytes> fileQuotaPerIdentity: bytes of files one identity may have stored',
  '--file-total <bytes> fileQuotaTotal: bytes of files stored for everyone together',
  '--file-bytes-per-second <bytes> fileBytesPerSecond: sustained file bytes per connection: fput lines, fputb headers with their raw bodies and fget requests (apart from the chat rate limit)',
  '--file-byte-burst <bytes> fileByteBurst: upload bytes per connection in a burst',
  '--session-log-burst <n> sessionLogBurst: log lines one connection may cause in a burst',
  '--session-log-per-minute <n> sessionLogPerMinute: log lines one connection may cause per minute after the burst',
  '--redis-wait <duration> redisWaitMs: at start, how long to keep retrying (with backoff, logged) an unreachable --redis before giving up; 0 = forever',
];

const PLAIN_LINE = /^(--[a-z0-9-]+ <([a-z]+)>) (\w+): (.+)$/;

function plainOption(line: Plain): ServeOptionSpec {
  const match = PLAIN_LINE.exec(line);
  if (!match) throw new Error(`serve option not in the form "--flag <kind> key: help": ${line}`);
  const [, flags, placeholder, key, help] = match as unknown as [
    string,
    string,
    keyof typeof KIND_OF,
    keyof ServerConfig,
    string,
  ];
  const kind = KIND_OF[placeholder];
  return { flags, help, env: envName(flags), default: defaultText(key, kind), key, kind };
}

function defaultText(key: keyof ServerConfig, kind: ValueKind): string {
  const value = d[key];
  if (kind === 'bytes') return size(value as number);
  if (kind === 'duration') return duration(value as number);
  return String(value);
}

function envName(flags: string): string {
  return `SECURECHAT_${flags.slice(2).split(' ')[0]!.replace(/-/g, '_').toUpperCase()}`;
}

/** Every option of `securechat serve` (flags > SECURECHAT_* environment > defaults). */
export const SERVE_OPTIONS: ServeOptionSpec[] = [
  { flags: '--host <addr>', help: 'address to listen on', env: 'SECURECHAT_HOST', default: d.host },
  ...PLAIN.map(plainOption),
  {
    flags: '--no-rate-limit',
    help: 'disable per-connection rate limits (benchmarks only)',
    env: 'SECURECHAT_NO_RATE_LIMIT',
  },
  {
    flags: '--no-plaintext-reply',
    help: 'plaintext clients (HTTP, nc) are dropped without a plain-text answer',
    env: 'SECURECHAT_NO_PLAINTEXT_REPLY',
  },
  {
    flags: '--trusted-proxy <addrs>',
    help: 'comma-separated forwarders allowed to send a PROXY v1/v2 header (ngrok tcp --proxy-proto)',
    env: 'SECURECHAT_TRUSTED_PROXIES',
    default: '',
  },
  {
    flags: '--shared-address <addrs>',
    help: 'comma-separated addresses that stand for many clients (a forwarder without PROXY): identities carry their per-address limits; "none" for none',
    env: 'SECURECHAT_SHARED_ADDRESSES',
    default: d.sharedAddresses.join(','),
  },
  {
    flags: '--lobby <room>',
    help: 'room every v2 client joins (the broadcast chat)',
    env: 'SECURECHAT_LOBBY',
    default: d.lobby,
  },
  { flags: '--no-lobby', help: 'no lobby room', env: 'SECURECHAT_NO_LOBBY' },
  {
    flags: '--admin <fingerprints>',
    help: 'comma-separated identity fingerprints of server administrators (see `securechat keys`)',
    env: 'SECURECHAT_ADMINS',
    default: '',
  },
  {
    flags: '--room-lockout <duration>',
    help: 'how long a room is refused to that address after too many wrong passwords',
    env: 'SECURECHAT_ROOM_LOCKOUT',
    default: duration(d.roomLockoutMs),
  },
  {
    flags: '--redis <url>',
    help: 'join a cluster sharing this Redis (redis://HOST:PORT[/DB]; off loopback rediss:// with an ACL user); default: one process, SQLite',
    env: 'SECURECHAT_REDIS',
  },
  {
    flags: '--workers <n>',
    help: 'worker processes on one port (needs --redis; "auto" = one per core; --redis embedded starts a redis-server child)',
    env: 'SECURECHAT_WORKERS',
    default: '1',
  },
  {
    flags: '--metrics [host:port]',
    help: 'serve Prometheus metrics at /metrics (default 127.0.0.1:9464)',
    env: 'SECURECHAT_METRICS',
  },
  {
    flags: '--log-level <level>',
    help: 'pino log level',
    env: 'SECURECHAT_LOG_LEVEL',
    default: d.logLevel,
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'],
  },
  {
    flags: '--log-file <file>',
    help: 'also write JSON logs here (0600; rotated daily and at 10 MB, 14 kept)',
    env: 'SECURECHAT_LOG_FILE',
  },
  {
    flags: '--security-log <file>',
    help: 'security events also go here, apart from the main log (default: security.log beside --log-file; 90 kept)',
    env: 'SECURECHAT_SECURITY_LOG',
  },
  {
    flags: '--pretty-logs',
    help: 'human-readable logs (default when stdout is a terminal)',
    env: 'SECURECHAT_PRETTY_LOGS',
  },
];
