import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCertificate } from '../helpers/certs.js';
import { CLI, spawnJsonClient } from '../helpers/cli.js';
import {
  type Event,
  homeDir,
  incoming,
  knows,
  type Scenario,
  scenarioPerTest,
} from '../helpers/hostile/scenario.js';

/**
 * Issue 11, attacks 7 and 8, and state from older versions: server trust comes only from
 * --cert, --pin, an invite or known-servers.json; a rotated certificate is accepted by an
 * explicit step that keeps known peers and floors; invites make first contact something
 * the server cannot intercept; known peers written by older versions keep their floors.
 */
/** Runs a CLI command to completion (asynchronously: the hostile server lives in this process). */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, SECURECHAT_PASSPHRASE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const pinOf = (certPem: string) =>
  `sha256:${new X509Certificate(certPem).fingerprint256.replaceAll(':', '').toLowerCase()}`;

/** bob connects (making his identity), then runs `securechat invite` for that server. */
async function bobInvites(scenario: Scenario) {
  const { server } = scenario;
  const home = homeDir('bob');
  const bob = scenario.connect('bob', home);
  await server.waitForClient('bob');
  const invite = await run([
    'invite',
    'bob',
    '127.0.0.1',
    String(server.port),
    '--pin',
    server.pin,
    '--home',
    home,
  ]);
  return { bob, invite };
}

const trustAlert = (user: string, code: string) => (e: Event) =>
  e.kind === 'trust' && e.user === user && e.code === code;

// Several real clients per test on a shared 2-core machine: generous, bounded.
describe('hostile server: first contact and server trust', { timeout: 60_000 }, () => {
  const start = scenarioPerTest();

  it('never trusts ./certs/server.crt implicitly: the remembered pin wins', async () => {
    const scenario = await start();
    const { server } = scenario;
    const genuine = await makeCertificate();
    const home = homeDir('alice');
    writeFileSync(
      join(home, 'known-servers.json'),
      JSON.stringify({
        format: 'securechat-known-servers',
        version: 1,
        servers: { [`127.0.0.1:${server.port}`]: { pin: pinOf(genuine.certPem), firstSeen: 1 } },
      }),
    );
    const checkout = mkdtempSync(join(tmpdir(), 'securechat-other-checkout-'));
    mkdirSync(join(checkout, 'certs'));
    copyFileSync(server.cert.certPath, join(checkout, 'certs', 'server.crt'));
    server.lie('alice', 'bob', server.attacker.v1Entry());
    const alice = spawnJsonClient('alice', server.port, [], { home, cwd: checkout });
    scenario.clients.push(alice);
    alice.send('/to bob the wifi password is hunter2');
    expect(await alice.end()).toBe(3);
    expect(server.attacker.read('hunter2')).toBe(false);
  });

  it('an invite pins the server and refuses loudly when the listed key is not the invited one', async () => {
    const scenario = await start();
    const { server } = scenario;
    const { invite } = await bobInvites(scenario);
    expect(invite.code).toBe(0);
    const line = invite.stdout.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(
      /^securechat:\/\/bob@127\.0\.0\.1:\d+\/\?pin=[0-9a-f]{64}&id=[0-9a-f]{32}$/,
    );

    server.lie('alice', 'bob', server.attacker.v2Entry());
    const alice = spawnJsonClient('alice', server.port, [], {
      home: homeDir('alice'),
      args: ['alice', line],
    });
    scenario.clients.push(alice);
    const alert = await alice.waitFor(trustAlert('bob', 'E_INVITE_MISMATCH'));
    expect(String(alert.text)).toMatch(/does not match/);
    alice.send('/to bob hi bob, from your invite');
    expect((await scenario.settled('alice', alice, 'hi bob, from your invite')).kind).toBe('error');
    expect(server.attacker.read('from your invite')).toBe(false);
  });

  it('an invite (or --peer) that matches marks the peer verified on first contact', async () => {
    const scenario = await start();
    const { server } = scenario;
    const { bob, invite } = await bobInvites(scenario);
    const line = invite.stdout.trim();
    const alice = spawnJsonClient('alice', server.port, [], {
      home: homeDir('alice'),
      args: ['alice', line],
    });
    scenario.clients.push(alice);
    const users = await alice.waitFor(knows('bob'));
    const listed = (users.users as Array<{ name: string; status: string }>).find(
      (u) => u.name === 'bob',
    );
    expect(listed?.status).toBe('verified');
    alice.send('/to bob verified from the start');
    await bob.waitFor(incoming('alice', 'verified from the start'));

    const fingerprint = /id=([0-9a-f]{32})/.exec(line)![1]!;
    server.lie('carol', 'bob', server.attacker.v2Entry());
    const carol = scenario.connect('carol', homeDir('carol'), ['--peer', `bob=${fingerprint}`]);
    await carol.waitFor(trustAlert('bob', 'E_INVITE_MISMATCH'));
  });

  it('a rotated certificate is refused, then accepted explicitly with known peers and floors kept', async () => {
    const scenario = await start();
    const { server } = scenario;
    const home = homeDir('alice');
    const first = spawnJsonClient('alice', server.port, ['--accept-new'], { home });
    scenario.clients.push(first);
    const bob = scenario.connect('bob');
    await scenario.converse(first, bob);
    expect(await first.end()).toBe(0);
    const oldPin = server.pin;
    await server.rotateCertificate();

    const refused = spawnJsonClient('alice', server.port, [], { home });
    scenario.clients.push(refused);
    expect(await refused.end()).toBe(3);
    const error = refused.events.find((e) => e.kind === 'error' && e.code === 'E_PIN_MISMATCH');
    expect(String(error?.text)).toContain(oldPin);
    expect(String(error?.text)).toContain(server.pin);

    const accept = await run([
      'server-cert',
      '127.0.0.1',
      String(server.port),
      '--pin',
      server.pin,
      '--home',
      home,
    ]);
    expect(accept.code).toBe(0);
    expect(accept.stdout).toContain(oldPin);
    expect(accept.stdout).toContain(server.pin);
    expect(accept.stdout).toMatch(/1 known peer/);

    server.lie('alice', 'bob', server.attacker.v1Entry());
    const alice = spawnJsonClient('alice', server.port, [], { home });
    scenario.clients.push(alice);
    await alice.waitFor(trustAlert('bob', 'E_DOWNGRADE'));
  });

  it('known peers and servers written by the previous version load, upgraded, with their floors', async () => {
    const scenario = await start();
    const { server } = scenario;
    scenario.connect('bob');
    const bobIdk = (await server.waitForClient('bob')).entry.idk!;
    const home = homeDir('alice');
    mkdirSync(join(home, 'known-peers'));
    const peersFile = join(home, 'known-peers', 'alice.json');
    writeFileSync(
      peersFile,
      JSON.stringify({
        format: 'securechat-known-peers',
        version: 1,
        servers: {
          [server.pin]: {
            bob: { name: 'bob', identityKey: bobIdk, firstSeen: 1, verified: true, verifiedAt: 2 },
          },
        },
      }),
    );
    writeFileSync(
      join(home, 'known-servers.json'),
      JSON.stringify({
        format: 'securechat-known-servers',
        version: 1,
        servers: { [`127.0.0.1:${server.port}`]: { pin: server.pin, firstSeen: 1 } },
      }),
    );
    server.lie('alice', 'bob', server.attacker.v1Entry());
    const alice = spawnJsonClient('alice', server.port, [], { home });
    scenario.clients.push(alice);
    const alert = await alice.waitFor(trustAlert('bob', 'E_DOWNGRADE'));
    expect(alert.lost).toEqual(['identity']);
    const upgraded = JSON.parse(readFileSync(peersFile, 'utf8'));
    expect(upgraded.version).toBe(2);
    expect(upgraded.servers[server.pin].bob).toMatchObject({ identityKey: bobIdk, verified: true });
  });
});
