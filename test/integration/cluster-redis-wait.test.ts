import { afterEach, describe, expect, it } from 'vitest';
import { defaultServerConfig, type ServerConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { testCertificate } from '../helpers/certs.js';
import { LogSink } from '../helpers/log-sink.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { until } from '../helpers/until.js';

/**
 * A node started before its Redis answers (issue 17): it waits, retrying with backoff and
 * saying so in the log, and serves once Redis is up; `--redis-wait` bounds the wait.
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function config(redis: string, overrides: Partial<ServerConfig> = {}): Promise<ServerConfig> {
  const cert = await testCertificate();
  return {
    ...defaultServerConfig,
    host: '127.0.0.1',
    port: 0,
    certPath: cert.certPath,
    keyPath: cert.keyPath,
    dataPath: ':memory:',
    logLevel: 'debug',
    redis,
    clusterHeartbeatMs: 300,
    ...overrides,
  };
}

describe('Redis unreachable at start', () => {
  it('waits with a clear log line, then serves once Redis answers', async () => {
    const redis: TestRedis = await startTestRedis({ started: false });
    cleanups.push(() => redis.close());
    const logs = new LogSink();
    const starting = startServer(
      await config(redis.url),
      createLogger({ level: 'debug', destination: logs, securityDestination: new LogSink() }),
    );
    let server: RunningServer | undefined;
    void starting.then((s) => {
      server = s;
    });
    cleanups.push(async () => (await starting.catch(() => undefined))?.close());
    expect(await until(() => logs.events('cluster.redis_waiting').length > 0, 10_000)).toBe(true);
    const waiting = logs.events('cluster.redis_waiting')[0]!;
    expect(waiting).toMatchObject({ level: 40, redis: `${redis.url}`, attempt: 1 });
    expect(String(waiting.msg)).toContain('unreachable');
    expect(server).toBeUndefined();

    await redis.restart();
    const started = await starting;
    expect(logs.events('cluster.redis_reachable')).toHaveLength(1);
    const client = await RawClient.hello({
      port: started.port,
      certPem: (await testCertificate()).certPem,
      user: 'early',
    });
    client.close();
  });

  it('gives up after --redis-wait, saying why', async () => {
    const redis = await startTestRedis({ started: false });
    cleanups.push(() => redis.close());
    const logs = new LogSink();
    await expect(
      startServer(
        await config(redis.url, { redisWaitMs: 300 }),
        createLogger({ level: 'debug', destination: logs, securityDestination: new LogSink() }),
      ),
    ).rejects.toThrow(/did not answer within 300 ms.*--redis-wait/);
  });

  it('stops waiting when the start is aborted (a signal to the daemon)', async () => {
    const redis = await startTestRedis({ started: false });
    cleanups.push(() => redis.close());
    const logs = new LogSink();
    const abort = new AbortController();
    const starting = startServer(
      await config(redis.url),
      createLogger({ level: 'debug', destination: logs, securityDestination: new LogSink() }),
      { signal: abort.signal },
    );
    expect(await until(() => logs.events('cluster.redis_waiting').length > 0, 10_000)).toBe(true);
    abort.abort();
    await expect(starting).rejects.toThrow('stopped while waiting for Redis');
  });
});
