import cluster from 'node:cluster';
import { dirname, join } from 'node:path';
import { commandName } from '../command-name.js';
import {
  createLogger,
  installCrashGuard,
  type Logger,
  openLogFiles,
  type ServerConfig,
  startServer,
} from '../server/index.js';
import { type EmbeddedRedis, startEmbeddedRedis } from './embedded-redis.js';
import { startWorkers, WORKER_REDIS_ENV, type WorkerListening } from './serve-workers.js';

/** Running `securechat serve` once its flags are resolved (loaded on demand by serve.ts). */
export async function runServe(
  config: ServerConfig,
  pretty: boolean | undefined,
  workers: number,
): Promise<void> {
  // Everything the daemon creates (database, logs, certificates) is for its owner only.
  process.umask(0o077);
  const files = config.logFile
    ? await openLogFiles(config.logFile, config.securityLogFile)
    : undefined;
  const logger = createLogger({
    level: config.logLevel,
    ...(pretty === undefined ? {} : { pretty }),
    ...(files ? { files } : {}),
  });
  // The signal handlers go in before the server starts (and before its banner is printed):
  // a SIGTERM that arrives as soon as someone sees the banner must stop it cleanly, not kill it.
  let server: Serving | undefined;
  let stopping = false;
  // A start still waiting for Redis is abandoned on the first signal.
  const starting = new AbortController();
  let stop!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<void>((resolve) => {
    stop = (signal) => {
      if (stopping) {
        process.stderr.write(`second ${signal}: exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      logger.info({ event: 'server.stopping', signal });
      if (server) server.close().then(resolve, resolve);
      else starting.abort();
    };
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    server = await startServing(config, logger, workers, starting.signal);
  } catch (error) {
    if (stopping && starting.signal.aborted) {
      logger.info({ event: 'server.stopped', why: 'stopped before it started' });
      if (cluster.isWorker) process.exit(0);
      return;
    }
    throw error;
  }
  if (stopping) {
    await server.close();
    if (cluster.isWorker) process.exit(0);
    return; // asked to stop while starting
  }
  if (cluster.isWorker) {
    // One of `--workers N`: the primary prints the banner; its channel keeps us alive.
    await stopped;
    process.exit(0);
  }
  const shareHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : server.host;
  const lines = [
    `securechat listening on ${server.host}:${server.port} (TLS 1.2+, AEAD only)`,
    `certificate ${config.certPath}${server.generatedCertificate ? ' (generated now)' : ''}`,
    `fingerprint ${server.pin}`,
    ...(workers > 1 ? [`workers     ${workers} processes share this port through Redis`] : []),
    ...(server.metricsAddress
      ? [`metrics     http://${server.metricsAddress.host}:${server.metricsAddress.port}/metrics`]
      : []),
    '',
    'Connect with:',
    `  ${commandName()} connect <name> ${shareHost} ${server.port} --pin ${server.pin}`,
    ...(commandName() === 'securechat'
      ? []
      : ['  (from this directory; `npm link` puts `securechat` on your PATH)']),
    `Share over the internet: run \`ngrok tcp ${server.port}\` and give friends the host, port and pin it shows.`,
    ...(config.trustedProxies.length === 0 && config.sharedAddresses.length > 0
      ? [
          `Behind a plain \`ngrok tcp\` everyone arrives from ${config.sharedAddresses.join(' or ')}: the server then keys`,
          'per-address limits on identities. For real addresses: `ngrok tcp --proxy-proto 2` with --trusted-proxy 127.0.0.1.',
        ]
      : []),
    '',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);

  await stopped;
}

/** What the banner and the signal handler need of whatever serves (one process, a worker, a primary). */
interface Serving {
  host: string;
  port: number;
  pin: string;
  generatedCertificate: boolean;
  metricsAddress: { host: string; port: number } | undefined;
  close(): Promise<void>;
}

/**
 * One process (SQLite, or one node with --redis), one worker of `--workers N` (it reports
 * to its primary), or the primary itself (forks the workers and serves nothing).
 */
async function startServing(
  config: ServerConfig,
  logger: Logger,
  workers: number,
  signal: AbortSignal,
): Promise<Serving> {
  if (cluster.isWorker) {
    const server = await startServer(
      { ...config, redis: process.env[WORKER_REDIS_ENV] ?? config.redis },
      logger,
      { signal },
    );
    installCrashGuard(process, logger, server.stats);
    const report: WorkerListening = {
      type: 'listening',
      host: server.host,
      port: server.port,
      pin: server.pin,
      generated: server.generatedCertificate,
      ...(server.metricsAddress ? { metrics: server.metricsAddress } : {}),
    };
    process.send?.(report);
    return {
      ...report,
      generatedCertificate: report.generated,
      metricsAddress: report.metrics,
      close: () => server.close(),
    };
  }
  if (workers > 1) {
    const { listening, stop } = await startWorkers(config, workers, logger);
    logger.info(
      { event: 'workers.listening', workers, port: listening.port },
      `${workers} workers listening`,
    );
    return {
      ...listening,
      generatedCertificate: listening.generated,
      metricsAddress: listening.metrics,
      close: stop,
    };
  }
  let embedded: EmbeddedRedis | undefined;
  if (config.redis === 'embedded') {
    const base = config.dataPath === ':memory:' ? process.cwd() : dirname(config.dataPath);
    embedded = await startEmbeddedRedis(join(base, 'redis'));
  }
  const server = await startServer(embedded ? { ...config, redis: embedded.url } : config, logger, {
    signal,
  }).catch(async (error: unknown) => {
    await embedded?.stop();
    throw error;
  });
  installCrashGuard(process, logger, server.stats);
  return {
    host: server.host,
    port: server.port,
    pin: server.pin,
    generatedCertificate: server.generatedCertificate,
    metricsAddress: server.metricsAddress,
    close: async () => {
      await server.close();
      await embedded?.stop();
    },
  };
}
