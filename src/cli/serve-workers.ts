import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, loadOrCreateCertificate, type ServerConfig } from '../server/index.js';
import { type EmbeddedRedis, startEmbeddedRedis } from './embedded-redis.js';

/** Environment a worker gets from its primary: the resolved Redis URL. */
export const WORKER_REDIS_ENV = 'SECURECHAT_WORKER_REDIS';

/** What a worker tells its primary once it listens. */
export interface WorkerListening {
  type: 'listening';
  host: string;
  port: number;
  pin: string;
  generated: boolean;
  metrics?: { host: string; port: number };
}

/** `--workers`: a count, or `auto` for one per core. */
export function parseWorkers(text: string): number {
  if (text === '' || text === undefined) return 1;
  if (text === 'auto') return availableParallelism();
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new ConfigError(`--workers must be a number from 1 to 256 or "auto"; got "${text}"`);
  return n;
}

/**
 * The primary of `serve --workers N`: generates the certificate once, starts the embedded
 * Redis when asked, forks N workers sharing one port (node:cluster) and waits until every
 * one listens. Returns the first worker's listening report and a stop function.
 */
export async function startWorkers(
  config: ServerConfig,
  workers: number,
): Promise<{ listening: WorkerListening; stop: () => Promise<void> }> {
  if (config.redis === undefined)
    throw new ConfigError(
      '--workers needs --redis URL (or --redis embedded): workers share state through Redis',
    );
  await loadOrCreateCertificate({ certPath: config.certPath, keyPath: config.keyPath });
  let embedded: EmbeddedRedis | undefined;
  let url = config.redis;
  if (url === 'embedded') {
    const base = config.dataPath === ':memory:' ? process.cwd() : dirname(config.dataPath);
    embedded = await startEmbeddedRedis(join(base, 'redis'));
    url = embedded.url;
  }
  const forked: Worker[] = [];
  for (let i = 0; i < workers; i++) forked.push(cluster.fork({ [WORKER_REDIS_ENV]: url }));
  let stopping = false;
  const reports = forked.map(
    (worker) =>
      new Promise<WorkerListening>((resolve, reject) => {
        worker.on('message', (message: WorkerListening) => {
          if (message?.type === 'listening') resolve(message);
        });
        worker.once('exit', (code) => {
          if (!stopping)
            reject(new Error(`worker ${worker.process.pid} exited (${code}) before listening`));
        });
      }),
  );
  const stop = async () => {
    stopping = true;
    await Promise.all(
      forked.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    await embedded?.stop();
  };
  try {
    const all = await Promise.all(reports);
    return { listening: all[0]!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
