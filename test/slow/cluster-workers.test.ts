import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCertificate } from '../helpers/certs.js';
import { CLI, REPO_ROOT, type ServeProcess, spawnServeWith } from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';

/** `serve --workers N --redis embedded`: N processes on one port form one chat. */
const daemons: ServeProcess[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const daemon of daemons.splice(0)) await daemon.stop();
});

describe('serve --workers', () => {
  it('two workers behind one port share presence and relay to each other', async () => {
    const cert = await makeCertificate();
    const dir = mkdtempSync(join(tmpdir(), 'securechat-workers-'));
    const args = [
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
      join(dir, 'state.db'),
      '--workers',
      '2',
      '--redis',
      'embedded',
      '--log-level',
      'warn',
    ];
    const daemon = await spawnServeWith(args, cert.certPath, {}, cert.keyPath);
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
