import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

export interface RedisWait {
  /** Give up after this long; 0 waits until Redis answers (or `signal` aborts). */
  waitMs: number;
  /** Aborted when the daemon is asked to stop while it waits. */
  signal?: AbortSignal;
}

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0` (for logs). */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Connects `clients` and waits until all are ready. The client library retries with
 * backoff (100 ms doubling to 5 s) when Redis does not answer; each retry is logged
 * (`cluster.redis_waiting`, with the reason), so a daemon started before its Redis — or
 * pointed at a wrong URL — says so instead of refusing to start. Rejects when `waitMs`
 * passes (0: never) or `signal` aborts.
 */
export async function waitForRedis(
  clients: readonly Redis[],
  url: string,
  wait: RedisWait,
  logger: Logger,
): Promise<void> {
  const shown = redactRedisUrl(url);
  let lastError = 'no answer';
  let attempts = 0;
  const [first] = clients;
  const onError = (error: Error) => {
    lastError = error.message;
  };
  const onRetry = (delayMs: number) => {
    attempts++;
    logger.warn(
      {
        event: 'cluster.redis_waiting',
        redis: shown,
        attempt: attempts,
        retryInMs: delayMs,
        err: lastError,
      },
      `Redis at ${shown} is unreachable (${lastError}): retrying; this node starts serving once it answers`,
    );
  };
  first?.on('error', onError);
  first?.on('reconnecting', onRetry);
  const cleanups: Array<() => void> = [
    () => first?.off('error', onError),
    () => first?.off('reconnecting', onRetry),
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (clients.every((client) => client.status === 'ready')) resolve();
      };
      for (const client of clients) {
        client.on('ready', check);
        cleanups.push(() => client.off('ready', check));
        // A failed first attempt rejects; the library keeps retrying on its own.
        if (client.status === 'wait') client.connect().catch(() => {});
      }
      if (wait.waitMs > 0) {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `Redis at ${shown} did not answer within ${wait.waitMs} ms (${lastError}); see --redis-wait`,
              ),
            ),
          wait.waitMs,
        );
        cleanups.push(() => clearTimeout(timer));
      }
      if (wait.signal) {
        const onAbort = () => reject(new Error('stopped while waiting for Redis'));
        if (wait.signal.aborted) onAbort();
        wait.signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => wait.signal?.removeEventListener('abort', onAbort));
      }
      check();
    });
    if (attempts > 0)
      logger.info({ event: 'cluster.redis_reachable', redis: shown, attempts }, 'Redis answers');
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}
