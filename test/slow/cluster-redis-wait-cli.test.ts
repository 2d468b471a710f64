import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../src/cli/embedded-redis.js';
import { makeCertificate } from '../helpers/certs.js';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { until } from '../helpers/until.js';

/** `serve --redis` before Redis is up: the daemon says it waits, and a SIGTERM stops it cleanly. */
describe('serve --redis with Redis down', () => {
  it('logs that it waits for Redis and exits 0 on SIGTERM while waiting', async () => {
    const cert = await makeCertificate();
    const port = await freeLoopbackPort();
    const proc = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--cert',
        cert.certPath,
        '--key',
        cert.keyPath,
        '--data',
        ':memory:',
        '--redis',
        `redis://127.0.0.1:${port}/0`,
        '--log-level',
        'info',
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    try {
      expect(await until(() => out.includes('cluster.redis_waiting'), 20_000), out).toBe(true);
      expect(out).toContain(`Redis at redis://127.0.0.1:${port}/0 is unreachable`);
      expect(out).not.toContain('securechat listening on');
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });
});
