import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCertificate } from '../helpers/certs.js';
import { CLI, REPO_ROOT, type ServeProcess, spawnServeOn } from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';
import { until } from '../helpers/until.js';

/** `serve --workers N --redis embedded`: N processes on one port form one chat. */
const daemons: ServeProcess[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const daemon of daemons.splice(0)) await daemon.stop();
});

/** Worker processes of a `--workers` primary (its node children; not the embedded Redis). */
function workerPids(primary: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(primary)], {
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, comm]) => pid && comm && comm !== 'redis-server')
    .map(([pid]) => Number(pid));
}

async function workersDaemon(): Promise<{ daemon: ServeProcess; certPem: string }> {
  const cert = await makeCertificate();
  const dir = mkdtempSync(join(tmpdir(), 'securechat-workers-'));
  const daemon = await spawnServeOn(cert, [
    '--data',
    join(dir, 'state.db'),
    '--workers',
    '2',
    '--redis',
    'embedded',
    '--log-level',
    'info',
  ]);
  daemons.push(daemon);
  return { daemon, certPem: cert.certPem };
}

describe('serve --workers', () => {
  it('replaces a worker killed with kill -9, and the chat goes on over both', async () => {
    const { daemon, certPem } = await workersDaemon();
    const before = workerPids(daemon.proc.pid!);
    expect(before).toHaveLength(2);
    process.kill(before[0]!, 'SIGKILL');
    const restarted = await until(
      () => daemon.records().some((r) => r.event === 'worker.restarted'),
      20_000,
    );
    expect(restarted, 'a worker.restarted log line').toBe(true);
    const exited = daemon.records().find((r) => r.event === 'worker.exited');
    expect(exited).toMatchObject({ pid: before[0], signal: 'SIGKILL' });
    const after = workerPids(daemon.proc.pid!);
    expect(after).toHaveLength(2);
    expect(after).not.toContain(before[0]);
    const users = ['w0', 'w1', 'w2', 'w3'];
    for (const user of users)
      clients.push(await RawClient.hello({ port: daemon.port, certPem, user }));
    for (const client of clients)
      await client.next(
        (f) => f.type === 'users' && Object.keys(f.users as object).length === 4,
        15_000,
      );
  });

  it('two workers behind one port share presence and relay to each other', async () => {
    const cert = await makeCertificate();
    const dir = mkdtempSync(join(tmpdir(), 'securechat-workers-'));
    const daemon = await spawnServeOn(cert, [
      '--data',
      join(dir, 'state.db'),
      '--workers',
      '2',
      '--redis',
      'embedded',
      '--log-level',
      'warn',
    ]);
    daemons.push(daemon);
    expect(daemon.stderr.join('\n')).toContain('workers     2 processes');
    const users = ['u0', 'u1', 'u2', 'u3'];
    for (const user of users) {
      const client = await RawClient.hello({ port: daemon.port, certPem: cert.certPem, user });
      clients.push(client);
    }
    // every client eventually sees all four (round-robin put them on both workers)
    for (const client of clients)
      await client.next(
        (f) => f.type === 'users' && Object.keys(f.users as object).length === 4,
        15_000,
      );
    for (let i = 0; i < users.length; i++) {
      const to = (i + 1) % users.length;
      clients[i]!.send({
        type: 'relay',
        to: users[to],
        alg: 'X25519+AESGCM',
        nonce: Buffer.alloc(12).toString('base64'),
        cipher: Buffer.alloc(16, i).toString('base64'),
      });
      expect(await clients[to]!.next((f) => f.type === 'relay', 10_000)).toMatchObject({
        from: users[i],
      });
    }
  });

  it('refuses --workers without --redis, and --redis embedded without redis-server, clearly', () => {
    const noRedis = spawnSync(
      process.execPath,
      [CLI, 'serve', '--port', '0', '--workers', '2', '--data', ':memory:'],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    expect(noRedis.status).not.toBe(0);
    expect(noRedis.stderr).toContain('--workers needs --redis');
    const noBinary = spawnSync(
      process.execPath,
      [CLI, 'serve', '--port', '0', '--redis', 'embedded', '--data', ':memory:'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, PATH: '/nonexistent' },
      },
    );
    expect(noBinary.status).not.toBe(0);
    expect(noBinary.stderr).toContain('needs the redis-server binary');
  });
});
