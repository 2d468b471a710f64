import { type Command, Option } from 'commander';
import {
  ConfigError,
  createLogger,
  defaultServerConfig,
  parseByteSize,
  parseDuration,
  parsePort,
  type ServerConfig,
  startServer,
  validateServerConfig,
} from '../server/index.js';

interface ServeFlags {
  host: string;
  port: string;
  cert: string;
  key: string;
  maxLine: string;
  handshakeTimeout: string;
  helloTimeout: string;
  maxSendQueue: string;
  data: string;
  logLevel: string;
  prettyLogs?: boolean;
}

/** Flags > SECURECHAT_* environment > defaults (commander's Option.env). */
export function addServeCommand(program: Command): void {
  const d = defaultServerConfig;
  program
    .command('serve')
    .description('run the TLS relay daemon (generates a certificate on first run)')
    .addOption(
      new Option('--host <addr>', 'address to listen on').env('SECURECHAT_HOST').default(d.host),
    )
    .addOption(
      new Option('--port <port>', 'TCP port (0 = any free port)')
        .env('SECURECHAT_PORT')
        .default(String(d.port)),
    )
    .addOption(
      new Option('--cert <file>', 'certificate (PEM); generated if missing')
        .env('SECURECHAT_CERT')
        .default(d.certPath),
    )
    .addOption(
      new Option('--key <file>', 'private key (PEM, mode 0600); generated if missing')
        .env('SECURECHAT_KEY')
        .default(d.keyPath),
    )
    .addOption(
      new Option('--max-line <bytes>', 'longest accepted line from a client (e.g. 64k)')
        .env('SECURECHAT_MAX_LINE')
        .default('64k'),
    )
    .addOption(
      new Option('--handshake-timeout <duration>', 'TLS handshake deadline')
        .env('SECURECHAT_HANDSHAKE_TIMEOUT')
        .default('10s'),
    )
    .addOption(
      new Option('--hello-timeout <duration>', 'deadline for a valid hello after the handshake')
        .env('SECURECHAT_HELLO_TIMEOUT')
        .default('10s'),
    )
    .addOption(
      new Option(
        '--max-send-queue <bytes>',
        'bytes queued for a client that does not read before it is dropped',
      )
        .env('SECURECHAT_MAX_SEND_QUEUE')
        .default('1m'),
    )
    .addOption(
      new Option('--data <file>', 'persistent state (identity bindings); ":memory:" for none')
        .env('SECURECHAT_DATA')
        .default(d.dataPath),
    )
    .addOption(
      new Option('--log-level <level>', 'pino log level')
        .env('SECURECHAT_LOG_LEVEL')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
        .default(d.logLevel),
    )
    .addOption(
      new Option('--pretty-logs', 'human-readable logs (default when stdout is a terminal)').env(
        'SECURECHAT_PRETTY_LOGS',
      ),
    )
    .action(async (flags: ServeFlags) => {
      const config = serveConfigFromFlags(flags);
      await runServe(config, flags.prettyLogs);
    });
}

export function serveConfigFromFlags(flags: ServeFlags): ServerConfig {
  if (!flags.host.trim()) throw new ConfigError('--host must not be empty');
  return validateServerConfig({
    host: flags.host,
    port: parsePort(flags.port, '--port'),
    certPath: flags.cert,
    keyPath: flags.key,
    maxLineBytes: parseByteSize(flags.maxLine, '--max-line'),
    handshakeTimeoutMs: parseDuration(flags.handshakeTimeout, '--handshake-timeout'),
    helloTimeoutMs: parseDuration(flags.helloTimeout, '--hello-timeout'),
    maxSendQueueBytes: parseByteSize(flags.maxSendQueue, '--max-send-queue'),
    dataPath: flags.data,
    logLevel: flags.logLevel,
  });
}

async function runServe(config: ServerConfig, pretty: boolean | undefined): Promise<void> {
  const logger = createLogger({
    level: config.logLevel,
    ...(pretty === undefined ? {} : { pretty }),
  });
  const server = await startServer(config, logger);
  const shareHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : server.host;
  const lines = [
    `securechat listening on ${server.host}:${server.port} (TLS 1.2+, AEAD only)`,
    `certificate ${config.certPath}${server.generatedCertificate ? ' (generated now)' : ''}`,
    `fingerprint ${server.pin}`,
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
