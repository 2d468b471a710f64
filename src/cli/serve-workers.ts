import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, type ServerConfig } from '../server/config.js';
import type { Logger } from '../server/logger.js';
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

/** How a crashed worker is replaced. */
export interface RestartPolicy {
  /** Restarts allowed within any minute, all workers together; past it, no more. */
  perMinute: number;
  /** First delay before a restart; doubles with each restart in the last minute. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  perMinute: 10,
  baseDelayMs: 100,
  maxDelayMs: 5000,
};

/** Milliseconds to wait before the next restart, or undefined when the minute's budget is spent. */
export function restartDelay(
  recent: readonly number[],
  now: number,
  policy: RestartPolicy,
): number | undefined {
  const within = recent.filter((t) => now - t < 60_000).length;
  if (within >= policy.perMinute) return undefined;
  return Math.min(policy.baseDelayMs * 2 ** within, policy.maxDelayMs);
}

/**
 * The primary of `serve --workers N`: generates the certificate once, starts the embedded
 * Redis when asked, forks N workers sharing one port (node:cluster) and waits until every
 * one listens. A worker that dies afterwards is replaced (its users were reaped by the
 * others; they reconnect), after a delay doubling with each restart of the last minute, at
 * most `policy.perMinute` a minute; past that the primary stops replacing workers, and
 * exits non-zero once none is left. Returns the first worker's listening report and a
 * stop function.
 */
export async function startWorkers(
  config: ServerConfig,
  workers: number,
  logger: Logger,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): Promise<{ listening: WorkerListening; stop: () => Promise<void> }> {
  if (config.redis === undefined)
    throw new ConfigError(
      '--workers needs --redis URL (or --redis embedded): workers share state through Redis',
    );
  const { loadOrCreateCertificate } = await import('../server/certs.js');
  await loadOrCreateCertificate({ certPath: config.certPath, keyPath: config.keyPath });
  let embedded: EmbeddedRedis | undefined;
  let url = config.redis;
  if (url === 'embedded') {
    const base = config.dataPath === ':memory:' ? process.cwd() : dirname(config.dataPath);
    embedded = await startEmbeddedRedis(join(base, 'redis'));
    url = embedded.url;
  }
  const live = new Set<Worker>();
  const restarts: number[] = [];
  let started = false;
  let stopping = false;
  const timers = new Set<NodeJS.Timeout>();

  const fork = (): { worker: Worker; listening: Promise<WorkerListening> } => {
    const worker = cluster.fork({ [WORKER_REDIS_ENV]: url });
    live.add(worker);
    const listening = new Promise<WorkerListening>((resolve, reject) => {
      worker.on('message', (message: WorkerListening) => {
        if (message?.type === 'listening') resolve(message);
      });
      worker.once('exit', (code, signal) => {
        live.delete(worker);
        if (stopping) return;
        if (!started) {
          reject(new Error(`worker ${worker.process.pid} exited (${code}) before listening`));
          return;
        }
        replace(worker.process.pid, code, signal);
      });
    });
    listening.catch(() => {});
    return { worker, listening };
  };

  const replace = (pid: number | undefined, code: number | null, signal: string | null) => {
    const now = Date.now();
    const delay = restartDelay(restarts, now, policy);
    if (delay === undefined) {
      logger.error(
        {
          event: 'worker.restart_limit',
          pid,
          code,
          signal,
          perMinute: policy.perMinute,
          live: live.size,
        },
        `a worker died and ${policy.perMinute} were restarted within a minute: not restarting it`,
      );
      if (live.size === 0) {
        logger.fatal({ event: 'workers.gone' }, 'no worker left: exiting');
        void stop().finally(() => process.exit(1));
      }
      return;
    }
    restarts.push(now);
    while (restarts.length > policy.perMinute) restarts.shift();
    logger.warn(
      { event: 'worker.exited', pid, code, signal, restartInMs: delay },
      'a worker died: starting another',
    );
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stopping) return;
      const next = fork();
      next.listening.then(
        () =>
          logger.info(
            { event: 'worker.restarted', pid: next.worker.process.pid, replaced: pid },
            'worker restarted',
          ),
        () => {},
      );
    }, delay);
    timers.add(timer);
  };

  const stop = async () => {
    stopping = true;
    for (const timer of timers) clearTimeout(timer);
    await Promise.all(
      [...live].map(
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
  const first = Array.from({ length: workers }, () => fork());
  try {
    const all = await Promise.all(first.map((f) => f.listening));
    started = true;
    return { listening: all[0]!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
