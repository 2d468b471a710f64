import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../server/config.js';

/** Path of the `redis-server` binary on PATH, if any. */
export function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port free on 127.0.0.1 right now (the OS picks it). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * `--redis embedded`: a `redis-server` child on a free loopback port, AOF on, data in `dir`
 * (0700), stopped with the daemon. Refuses clearly when the binary is missing.
 */
export async function startEmbeddedRedis(dir: string): Promise<EmbeddedRedis> {
  const binary = findRedisServer();
  if (!binary) {
    throw new ConfigError(
      '--redis embedded needs the redis-server binary on PATH (Debian: apt-get install redis-server), or give --redis redis://HOST:PORT',
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const port = await freeLoopbackPort();
  const child = await spawnRedisServer(binary, port, dir);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Starts `redis-server` on 127.0.0.1:`port` with its data (AOF, no RDB snapshots) in `dir`,
 * and resolves once it accepts connections; rejects if it exits or is not ready in time.
 */
export async function spawnRedisServer(
  binary: string,
  port: number,
  dir: string,
  timeoutMs = 15_000,
): Promise<ChildProcess> {
  const child = spawn(
    binary,
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
      ...['--appendonly', 'yes', '--save', '', '--protected-mode', 'yes', '--daemonize', 'no'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${output}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${output.slice(-2000)}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}
