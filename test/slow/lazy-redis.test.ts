import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';

/**
 * `serve` without `--redis` runs in one process and never loads the cluster code or ioredis
 * (about 120 ms of start-up and 11 MiB of memory); with `--redis` it does. The module
 * trace hook prints every module the real CLI resolves.
 */
const HOOK = fileURLToPath(new URL('../helpers/module-trace-hook.mjs', import.meta.url));

describe('serve loads the Redis client only for a cluster', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const serve = (extra: string[]) =>
    new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      const dir = mkdtempSync(join(tmpdir(), 'sc-lazy-'));
      dirs.push(dir);
      const args = ['serve', '--host', '127.0.0.1', '--port', '0'];
      args.push('--cert', join(dir, 's.crt'), '--key', join(dir, 's.key'));
      args.push('--data', join(dir, 'd.db'), ...extra);
      const child = spawn(
        process.execPath,
        ['--no-warnings', '--experimental-loader', HOOK, CLI, ...args],
        {
          cwd: fileURLToPath(new URL('../..', import.meta.url)),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.stdout.on('data', (d) => {
        stdout += d;
        if (/listening/.test(stdout)) child.kill('SIGTERM');
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('error', reject);
      child.on('exit', () => {
        clearTimeout(timer);
        resolve({ stdout, stderr });
      });
    });

  it('one process: listening, and neither ioredis nor the cluster node was loaded', async () => {
    const { stdout, stderr } = await serve([]);
    expect(stdout).toMatch(/listening/);
    expect(stderr).toMatch(/^M .*dist\/server\/server\.js/m); // (the hook works)
    expect(stderr).not.toMatch(/^M .*(ioredis|cluster-node\.js)/m);
  });

  it('with --redis: the cluster node and ioredis are loaded (the hook sees them)', async () => {
    // (nothing listens on port 1: the node gives up at once, after loading the cluster code)
    const { stderr } = await serve(['--redis', 'redis://127.0.0.1:1/0', '--redis-wait', '1ms']);
    expect(stderr).toMatch(/^M .*cluster-node\.js/m);
    expect(stderr).toMatch(/^M .*node_modules\/ioredis\//m);
  });
});
