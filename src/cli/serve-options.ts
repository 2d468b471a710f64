import type { ServerConfig } from '../server/index.js';
import { defaultServerConfig as d } from '../server/index.js';
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

type Plain = [flags: string, help: string, key: keyof ServerConfig, kind: ValueKind];

/** Options that map one value onto one config field; env = SECURECHAT_<FLAG>. */
const PLAIN: Plain[] = [
  ['--port <port>', 'TCP port (0 = any free port)', 'port', 'port'],
  ['--cert <file>', 'certificate (PEM); generated if missing', 'certPath', 'text'],
  ['--key <file>', 'private key (PEM, mode 0600); generated if missing', 'keyPath', 'text'],
  [
    '--data <file>',
    'persistent state (names, prekeys, stored messages, rooms; 0600); ":memory:" for none',
    'dataPath',
    'text',
  ],
  ['--max-line <bytes>', 'longest accepted line from a client (e.g. 64k)', 'maxLineBytes', 'bytes'],
  ['--handshake-timeout <duration>', 'TLS handshake deadline', 'handshakeTimeoutMs', 'duration'],
  [
    '--hello-timeout <duration>',
    'deadline for a valid hello after the handshake',
    'helloTimeoutMs',
    'duration',
  ],
  [
    '--idle-timeout <duration>',
    'close v2 sessions silent this long (they ping); 0 = never',
    'idleTimeoutMs',
    'duration',
  ],
  [
    '--v1-idle-timeout <duration>',
    'close v1 sessions silent this long (seed clients never ping); 0 = never, else at least 1h',
    'v1IdleTimeoutMs',
    'duration',
  ],
  [
    '--max-send-queue <bytes>',
    'bytes queued for a client before peer traffic to it is dropped and its input paused',
    'maxSendQueueBytes',
    'bytes',
  ],
  [
    '--slow-reader-grace <duration>',
    'a client whose queue stays full this long while peers send is disconnected',
    'slowReaderGraceMs',
    'duration',
  ],
  [
    '--close-grace <duration>',
    'after a fatal error, stop reading and close within this',
    'closeGraceMs',
    'duration',
  ],
  ['--max-connections <n>', 'connections open at once, all clients', 'maxConnections', 'count'],
  [
    '--max-per-ip <n>',
    'connections open at once from one address (IPv6: one /64; behind ngrok see --trusted-proxy)',
    'maxConnectionsPerIp',
    'count',
  ],
  ['--frames-per-second <n>', 'sustained frames per connection', 'framesPerSecond', 'count'],
  ['--frame-burst <n>', 'frames per connection in a burst', 'frameBurst', 'count'],
  ['--bytes-per-second <bytes>', 'sustained bytes per connection', 'bytesPerSecond', 'bytes'],
  [
    '--byte-burst <bytes>',
    'bytes per connection in a burst (more than --max-line)',
    'byteBurst',
    'bytes',
  ],
  [
    '--abuse-limit <n>',
    'rate-limited frames within 10 s that close a connection',
    'abuseLimit',
    'count',
  ],
  [
    '--strikes <n>',
    'abusive disconnects from one address (or identity, behind a shared address) before it is refused',
    'strikes',
    'count',
  ],
  ['--penalty <duration>', 'how long a repeat offender is refused', 'penaltyMs', 'duration'],
  ['--mailbox-size <n>', 'messages kept for one offline v2 user', 'mailboxPerRecipient', 'count'],
  [
    '--mailbox-per-sender <n>',
    'messages one sender may leave for one offline user',
    'mailboxPerSender',
    'count',
  ],
  ['--mailbox-ttl <duration>', 'how long stored messages are kept', 'mailboxTtlMs', 'duration'],
  [
    '--mailbox-message-max <bytes>',
    'largest message stored for an offline user',
    'mailboxMessageMaxBytes',
    'bytes',
  ],
  [
    '--mailbox-recipient-bytes <bytes>',
    'bytes stored for one offline user',
    'mailboxRecipientBytes',
    'bytes',
  ],
  [
    '--mailbox-sender-bytes <bytes>',
    'bytes one sender identity may have stored, all recipients together',
    'mailboxSenderBytes',
    'bytes',
  ],
  [
    '--mailbox-address-bytes <bytes>',
    'bytes one address may have stored (not for shared addresses)',
    'mailboxAddressBytes',
    'bytes',
  ],
  [
    '--mailbox-total-bytes <bytes>',
    'bytes stored for everyone together',
    'mailboxTotalBytes',
    'bytes',
  ],
  [
    '--mailbox-recent <duration>',
    'store messages only for identities seen within this',
    'mailboxRecentMs',
    'duration',
  ],
  [
    '--mailbox-page <n>',
    "stored messages per delivery page (the next follows the client's `fetched`)",
    'mailboxPageMessages',
    'count',
  ],
  ['--mailbox-page-bytes <bytes>', 'bytes per delivery page', 'mailboxPageBytes', 'bytes'],
  ['--rooms-per-identity <n>', 'rooms one identity may own', 'roomsPerIdentity', 'count'],
  ['--max-rooms <n>', 'rooms on the server', 'maxRooms', 'count'],
  [
    '--room-ttl <duration>',
    'rooms empty this long are deleted (not the lobby, not rooms admins own)',
    'roomTtlMs',
    'duration',
  ],
  [
    '--room-password-attempts <n>',
    'wrong room passwords from one address (or identity) before a lockout',
    'roomPasswordAttempts',
    'count',
  ],
  [
    '--password-queue <n>',
    'room password checks waiting for the hashing worker before E_BUSY',
    'passwordQueue',
    'count',
  ],
  ['--names-per-identity <n>', 'names one identity may hold', 'namesPerIdentity', 'count'],
  [
    '--new-names-per-identity <n>',
    'new names one identity may take per day',
    'newNamesPerIdentity',
    'count',
  ],
  [
    '--new-names-per-address <n>',
    'new names (v1 names included) one address may take per day',
    'newNamesPerAddress',
    'count',
  ],
  [
    '--new-names-per-hour <n>',
    'new names for everyone together per hour',
    'newNamesPerHour',
    'count',
  ],
  [
    '--name-trial-ttl <duration>',
    'a name not used after its first day is freed this long after its last use',
    'nameTrialTtlMs',
    'duration',
  ],
  [
    '--name-ttl <duration>',
    'a name used on two days or more is freed this long after its last use',
    'nameTtlMs',
    'duration',
  ],
  [
    '--bundles-per-minute <n>',
    'bundle requests per requesting identity per minute',
    'bundlesPerMinute',
    'count',
  ],
  [
    '--bundle-opks-per-target <n>',
    'one-time prekeys handed out per user per hour (then bundles come without)',
    'bundleOpksPerTarget',
    'count',
  ],
  [
    '--session-log-burst <n>',
    'log lines one connection may cause in a burst',
    'sessionLogBurst',
    'count',
  ],
  [
    '--session-log-per-minute <n>',
    'log lines one connection may cause per minute after the burst',
    'sessionLogPerMinute',
    'count',
  ],
];

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
  ...PLAIN.map(([flags, help, key, kind]) => ({
    flags,
    help,
    env: envName(flags),
    default: defaultText(key, kind),
    key,
    kind,
  })),
  {
    flags: '--no-rate-limit',
    help: 'disable per-connection rate limits (benchmarks only)',
    env: 'SECURECHAT_NO_RATE_LIMIT',
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
