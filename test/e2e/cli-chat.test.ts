import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLI,
  type JsonClient,
  type ServeProcess,
  spawnJsonClient,
  spawnServe,
} from '../helpers/cli.js';

const isMessage = (from: string, text: string) => (e: Record<string, unknown>) =>
  e.kind === 'message' && e.direction === 'in' && e.from === from && e.text === text;

/** True for an event showing that `user` is online. */
const knows = (e: Record<string, unknown>, user: string) =>
  (e.kind === 'presence' && e.event === 'join' && e.user === user) ||
  (e.kind === 'users' && (e.users as Array<{ name: string }>).some((u) => u.name === user));

describe('end-to-end: the real CLI (serve + two connect --json)', () => {
  let server: ServeProcess | undefined;
  const clients: JsonClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.kill();
    await server?.stop();
    server = undefined;
  });

  it('exchanges end-to-end encrypted messages both ways; the server never sees the text', async () => {
    server = await spawnServe();
    const alice = spawnJsonClient('alice', server.port, ['--pin', server.pin]);
    const bob = spawnJsonClient('bob', server.port, ['--pin', server.pin]);
    clients.push(alice, bob);
    await alice.waitFor((e) => e.kind === 'users');
    await bob.waitFor((e) => e.kind === 'users');
    await alice.waitFor((e) => knows(e, 'bob'));

    alice.send('/to bob secret plans 🍕');
    await bob.waitFor(isMessage('alice', 'secret plans 🍕'));
    await alice.waitFor((e) => e.kind === 'delivery' && e.status === 'delivered');
    bob.send('/query alice');
    bob.send('ack from bob');
    await alice.waitFor(isMessage('bob', 'ack from bob'));
    alice.send('/server visible to the server');
    await alice.waitFor((e) => e.kind === 'server' && e.text === 'echo: visible to the server');

    expect(await alice.end()).toBe(0);
    expect(await bob.end()).toBe(0);
    const serverLogs = server.stdout.join('\n');
    expect(serverLogs).not.toContain('secret plans');
    expect(serverLogs).not.toContain('ack from bob');
    expect(serverLogs).toContain('visible to the server');
    const incoming = bob.events.find(isMessage('alice', 'secret plans 🍕'));
    expect(incoming?.protection).toMatch(/^e2ee/);
  });

  it('creates the identity key with mode 0600 and shows the same fingerprint next time', async () => {
    server = await spawnServe();
    const home = mkdtempSync(join(tmpdir(), 'securechat-home-'));
    const first = spawnJsonClient('carol', server.port, ['--pin', server.pin], { home });
    clients.push(first);
    const intro = await first.waitFor(
      (e) => e.kind === 'info' && String(e.text).startsWith('you are carol'),
    );
    await first.waitFor((e) => e.kind === 'users');
    expect(await first.end()).toBe(0);
    const keyFile = join(home, 'identities', 'carol.json');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const identity = /identity ([0-9a-f-]+)/.exec(String(intro.text))?.[1];
    const again = spawnJsonClient('carol', server.port, ['--pin', server.pin], { home });
    clients.push(again);
    const intro2 = await again.waitFor(
      (e) => e.kind === 'info' && String(e.text).startsWith('you are carol'),
    );
    expect(String(intro2.text)).toContain(`identity ${identity}`);
  });

  it('refuses a wrong pin with both fingerprints and exit code 3', async () => {
    server = await spawnServe();
    const wrong = `sha256:${'ab'.repeat(32)}`;
    const client = spawnJsonClient('dave', server.port, ['--pin', wrong]);
    clients.push(client);
    const error = await client.waitFor((e) => e.kind === 'error' && e.code === 'E_PIN_MISMATCH');
    expect(String(error.text)).toContain(wrong);
    expect(String(error.text)).toContain(server.pin);
    expect(await client.end()).toBe(3);
  });

  it('fails with usage text and exit code 2 when arguments are missing and stdin is not a terminal', () => {
    const result = spawnSync(process.execPath, [CLI, 'connect', 'erin'], {
      encoding: 'utf8',
      input: '',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/usage: securechat connect/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('`certs` refuses to overwrite without --force, and `serve` generates missing certificates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'securechat-certs-'));
    const cert = join(dir, 'c.crt');
    const key = join(dir, 'c.key');
    const first = spawnSync(process.execPath, [CLI, 'certs', '--cert', cert, '--key', key], {
      encoding: 'utf8',
    });
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/fingerprint sha256:[0-9a-f]{64}/);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const before = readFileSync(cert, 'utf8');
    const again = spawnSync(process.execPath, [CLI, 'certs', '--cert', cert, '--key', key], {
      encoding: 'utf8',
    });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/--force/);
    expect(readFileSync(cert, 'utf8')).toBe(before);

    const fresh = join(dir, 'fresh');
    const { spawnServeWith } = await import('../helpers/cli.js');
    server = await spawnServeWith(
      [
        CLI,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--cert',
        join(fresh, 's.crt'),
        '--key',
        join(fresh, 's.key'),
        '--data',
        ':memory:',
      ],
      join(fresh, 's.crt'),
    );
    expect(existsSync(join(fresh, 's.crt'))).toBe(true);
    expect(statSync(join(fresh, 's.key')).mode & 0o777).toBe(0o600);
    expect(server.stderr.join('\n')).toContain('(generated now)');
    expect(server.stderr.join('\n')).toMatch(
      /securechat connect <name> 127\.0\.0\.1 \d+ --pin sha256:[0-9a-f]{64}/,
    );
  });

  it('shuts down cleanly on SIGTERM', async () => {
    server = await spawnServe();
    const code = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(server.records().some((r) => r.event === 'server.stopped')).toBe(true);
  });
});
