import { isIP } from 'node:net';
import type { Command } from 'commander';
import { isValidRoom } from '../protocol/index.js';
import {
  ConfigError,
  createLogger,
  defaultServerConfig as d,
  parseByteSize,
  parseCount,
  parseDuration,
  parsePort,
  type ServerConfig,
  startServer,
  validateServerConfig,
} from '../server/index.js';
import { addOptions, type OptionSpec } from './options.js';

type ServeFlags = Record<string, string | boolean | undefined>;

const SERVE_OPTIONS: OptionSpec[] = [
  { flags: '--host <addr>', help: 'address to listen on', env: 'SECURECHAT_HOST', default: d.host },
  {
    flags: '--port <port>',
    help: 'TCP port (0 = any free port)',
    env: 'SECURECHAT_PORT',
    default: String(d.port),
  },
  {
    flags: '--cert <file>',
    help: 'certificate (PEM); generated if missing',
    env: 'SECURECHAT_CERT',
    default: d.certPath,
  },
  {
    flags: '--key <file>',
    help: 'private key (PEM, mode 0600); generated if missing',
    env: 'SECURECHAT_KEY',
    default: d.keyPath,
  },
  {
    flags: '--data <file>',
    help: 'persistent state (identity bindings); ":memory:" for none',
    env: 'SECURECHAT_DATA',
    default: d.dataPath,
  },
  {
    flags: '--max-line <bytes>',
    help: 'longest accepted line from a client (e.g. 64k)',
    env: 'SECURECHAT_MAX_LINE',
    default: '64k',
  },
  {
    flags: '--handshake-timeout <duration>',
    help: 'TLS handshake deadline',
    env: 'SECURECHAT_HANDSHAKE_TIMEOUT',
    default: '10s',
  },
  {
    flags: '--hello-timeout <duration>',
    help: 'deadline for a valid hello after the handshake',
    env: 'SECURECHAT_HELLO_TIMEOUT',
    default: '10s',
  },
  {
    flags: '--idle-timeout <duration>',
    help: 'close v2 sessions silent this long (they ping); 0 = never',
    env: 'SECURECHAT_IDLE_TIMEOUT',
    default: '5m',
  },
  {
    flags: '--max-send-queue <bytes>',
    help: 'bytes queued for a client that does not read before it is dropped',
    env: 'SECURECHAT_MAX_SEND_QUEUE',
    default: '1m',
  },
  {
    flags: '--max-connections <n>',
    help: 'connections open at once, all clients',
    env: 'SECURECHAT_MAX_CONNECTIONS',
    default: String(d.maxConnections),
  },
  {
    flags: '--max-per-ip <n>',
    help: 'connections open at once from one address (behind ngrok see --trusted-proxy)',
    env: 'SECURECHAT_MAX_PER_IP',
    default: String(d.maxConnectionsPerIp),
  },
  {
    flags: '--no-rate-limit',
    help: 'disable per-connection rate limits (benchmarks only)',
    env: 'SECURECHAT_NO_RATE_LIMIT',
  },
  {
    flags: '--frames-per-second <n>',
    help: 'sustained frames per connection',
    env: 'SECURECHAT_FRAMES_PER_SECOND',
    default: String(d.framesPerSecond),
  },
  {
    flags: '--frame-burst <n>',
    help: 'frames per connection in a burst',
    env: 'SECURECHAT_FRAME_BURST',
    default: String(d.frameBurst),
  },
  {
    flags: '--bytes-per-second <bytes>',
    help: 'sustained bytes per connection',
    env: 'SECURECHAT_BYTES_PER_SECOND',
    default: '1m',
  },
  {
    flags: '--byte-burst <bytes>',
    help: 'bytes per connection in a burst (more than --max-line)',
    env: 'SECURECHAT_BYTE_BURST',
    default: '4m',
  },
  {
    flags: '--abuse-limit <n>',
    help: 'rate-limited frames within 10 s that close a connection',
    env: 'SECURECHAT_ABUSE_LIMIT',
    default: String(d.abuseLimit),
  },
  {
    flags: '--strikes <n>',
    help: 'abusive disconnects from one address before it is refused for --penalty',
    env: 'SECURECHAT_STRIKES',
    default: String(d.strikes),
  },
  {
    flags: '--penalty <duration>',
    help: 'how long a repeat offender is refused',
    env: 'SECURECHAT_PENALTY',
    default: '5m',
  },
  {
    flags: '--trusted-proxy <addrs>',
    help: 'comma-separated forwarders allowed to send a PROXY v1/v2 header (ngrok tcp --proxy-proto)',
    env: 'SECURECHAT_TRUSTED_PROXIES',
    default: '',
  },
  {
    flags: '--mailbox-size <n>',
    help: 'messages kept for one offline v2 user',
    env: 'SECURECHAT_MAILBOX_SIZE',
    default: String(d.mailboxPerRecipient),
  },
  {
    flags: '--mailbox-per-sender <n>',
    help: 'messages one sender may leave for one offline user',
    env: 'SECURECHAT_MAILBOX_PER_SENDER',
    default: String(d.mailboxPerSender),
  },
  {
    flags: '--mailbox-ttl <duration>',
    help: 'how long stored messages are kept',
    env: 'SECURECHAT_MAILBOX_TTL',
    default: '7d',
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
    flags: '--room-password-attempts <n>',
    help: 'wrong room passwords from one address before a lockout',
    env: 'SECURECHAT_ROOM_PASSWORD_ATTEMPTS',
    default: String(d.roomPasswordAttempts),
  },
  {
    flags: '--room-lockout <duration>',
    help: 'how long a room is refused to that address after too many wrong passwords',
    env: 'SECURECHAT_ROOM_LOCKOUT',
    default: '15m',
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
    help: 'also write JSON logs here (rotated daily and at 10 MB, 14 kept)',
    env: 'SECURECHAT_LOG_FILE',
  },
  {
    flags: '--pretty-logs',
    help: 'human-readable logs (default when stdout is a terminal)',
    env: 'SECURECHAT_PRETTY_LOGS',
  },
];

export function addServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('run the TLS relay daemon (generates a certificate on first run)');
  addOptions(command, SERVE_OPTIONS).action(async (flags: ServeFlags) => {
    await runServe(serveConfigFromFlags(flags), flags.prettyLogs === true ? true : undefined);
  });
}

function text(flags: ServeFlags, key: string): string {
  const value = flags[key];
  return typeof value === 'string' ? value : '';
}

function parseAddressList(list: string): string[] {
  const addresses = list
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  for (const address of addresses) {
    if (isIP(address) === 0)
      throw new ConfigError(`--trusted-proxy takes IP addresses; "${address}" is not one`);
  }
  return addresses;
}

function parseRoomName(room: string): string {
  if (!isValidRoom(room))
    throw new ConfigError(`--lobby must be # followed by 1-32 of A-Z a-z 0-9 _ . -; got "${room}"`);
  return room;
}

function parseFingerprints(list: string): string[] {
  const fingerprints = list
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part.length > 0);
  for (const fingerprint of fingerprints) {
    if (!/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/.test(fingerprint)) {
      throw new ConfigError(
        `--admin takes identity fingerprints like 0fa950aa-4c28781e-961ce120-6a83e05c; got "${fingerprint}"`,
      );
    }
  }
  return fingerprints;
}

/** Turns parsed flags into a validated config (throws ConfigError with the flag name). */
export function serveConfigFromFlags(flags: ServeFlags): ServerConfig {
  const host = text(flags, 'host');
  if (!host.trim()) throw new ConfigError('--host must not be empty');
  const metrics = flags.metrics;
  const logFile = text(flags, 'logFile');
  return validateServerConfig({
    host,
    port: parsePort(text(flags, 'port'), '--port'),
    certPath: text(flags, 'cert'),
    keyPath: text(flags, 'key'),
    dataPath: text(flags, 'data'),
    maxLineBytes: parseByteSize(text(flags, 'maxLine'), '--max-line'),
    handshakeTimeoutMs: parseDuration(text(flags, 'handshakeTimeout'), '--handshake-timeout'),
    helloTimeoutMs: parseDuration(text(flags, 'helloTimeout'), '--hello-timeout'),
    idleTimeoutMs: parseDuration(text(flags, 'idleTimeout'), '--idle-timeout'),
    maxSendQueueBytes: parseByteSize(text(flags, 'maxSendQueue'), '--max-send-queue'),
    maxConnections: parseCount(text(flags, 'maxConnections'), '--max-connections'),
    maxConnectionsPerIp: parseCount(text(flags, 'maxPerIp'), '--max-per-ip'),
    rateLimit: flags.rateLimit !== false,
    framesPerSecond: parseCount(text(flags, 'framesPerSecond'), '--frames-per-second'),
    frameBurst: parseCount(text(flags, 'frameBurst'), '--frame-burst'),
    bytesPerSecond: parseByteSize(text(flags, 'bytesPerSecond'), '--bytes-per-second'),
    byteBurst: parseByteSize(text(flags, 'byteBurst'), '--byte-burst'),
    abuseLimit: parseCount(text(flags, 'abuseLimit'), '--abuse-limit'),
    strikes: parseCount(text(flags, 'strikes'), '--strikes'),
    penaltyMs: parseDuration(text(flags, 'penalty'), '--penalty'),
    trustedProxies: parseAddressList(text(flags, 'trustedProxy')),
    mailboxPerRecipient: parseCount(text(flags, 'mailboxSize'), '--mailbox-size'),
    mailboxPerSender: parseCount(text(flags, 'mailboxPerSender'), '--mailbox-per-sender'),
    mailboxTtlMs: parseDuration(text(flags, 'mailboxTtl'), '--mailbox-ttl'),
    ...(flags.lobby === false ? {} : { lobby: parseRoomName(text(flags, 'lobby')) }),
    admins: parseFingerprints(text(flags, 'admin')),
    roomPasswordAttempts: parseCount(
      text(flags, 'roomPasswordAttempts'),
      '--room-password-attempts',
    ),
    roomLockoutMs: parseDuration(text(flags, 'roomLockout'), '--room-lockout'),
    roomPasswordWindowMs: parseDuration(text(flags, 'roomLockout'), '--room-lockout'),
    logLevel: text(flags, 'logLevel'),
    ...(logFile ? { logFile } : {}),
    ...(metrics ? { metrics: metrics === true ? '127.0.0.1:9464' : String(metrics) } : {}),
  });
}

async function runServe(config: ServerConfig, pretty: boolean | undefined): Promise<void> {
  const logger = createLogger({
    level: config.logLevel,
    ...(pretty === undefined ? {} : { pretty }),
    ...(config.logFile ? { file: config.logFile } : {}),
  });
  const server = await startServer(config, logger);
  const shareHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : server.host;
  const lines = [
    `securechat listening on ${server.host}:${server.port} (TLS 1.2+, AEAD only)`,
    `certificate ${config.certPath}${server.generatedCertificate ? ' (generated now)' : ''}`,
    `fingerprint ${server.pin}`,
    ...(server.metricsAddress
      ? [`metrics     http://${server.metricsAddress.host}:${server.metricsAddress.port}/metrics`]
      : []),
    '',
    'Connect with:',
    `  securechat connect <name> ${shareHost} ${server.port} --pin ${server.pin}`,
    `Share over the internet: run \`ngrok tcp ${server.port}\` and give friends the host, port and pin it shows.`,
    '',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`second ${signal}: exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      logger.info({ event: 'server.stopping', signal });
      server.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
