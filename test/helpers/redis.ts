import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  findRedisServer,
  freeLoopbackPort,
  spawnRedisServer,
} from '../../src/cli/embedded-redis.js';

/** A real `redis-server` (Debian's package) on a free loopback port, for one test file. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** A fresh client (closed by {@link stop}). */
  client(): Redis;
  /** Stops the server (SIGTERM, AOF flushed) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

/** With `started: false` the port is chosen but the server waits for {@link TestRedis.restart}. */
export async function startTestRedis(options: { started?: boolean } = {}): Promise<TestRedis> {
  const binary = findRedisServer();
  if (!binary) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'securechat-redis-'));
  const clients: Redis[] = [];
  let child: ChildProcess | undefined;

  const start = async () => {
    child = await spawnRedisServer(binary, port, dir, 10_000);
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };
  if (options.started !== false) await start();
  const url = `redis://127.0.0.1:${port}`;
  return {
    port,
    url,
    dir,
    client() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      clients.push(client);
      return client;
    },
    stop,
    restart: start,
    async close() {
      for (const client of clients) client.disconnect();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
