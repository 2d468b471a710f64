import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type JsonClient,
  type ServeProcess,
  spawnJsonClient,
  spawnServe,
  waitUntil,
} from '../helpers/cli.js';

const SEED_CLIENT = fileURLToPath(new URL('../interop/seed_client.py', import.meta.url));
const hasPython =
  spawnSync('python3', ['-c', 'import cryptography'], { encoding: 'utf8' }).status === 0;
const hasOpenssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

interface SeedClient {
  proc: ChildProcess;
  events: Array<Record<string, unknown>>;
  send(line: string): void;
  waitFor(test: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function spawnSeed(name: string, server: ServeProcess): SeedClient {
  const proc = spawn(
    'python3',
    [SEED_CLIENT, name, '127.0.0.1', String(server.port), server.certPath, '30'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const events: Array<Record<string, unknown>> = [];
  let buffer = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      events.push(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return {
    proc,
    events,
    send: (line) => proc.stdin!.write(`${line}\n`),
    waitFor: (test) =>
      waitUntil(
        () => events.find(test),
        10_000,
        () => `a seed event; have ${JSON.stringify(events)} ${stderr}`,
      ),
  };
}

describe.skipIf(!hasPython)(
  'interop with an independent seed-protocol client (Python ssl + cryptography)',
  () => {
    let server: ServeProcess | undefined;
    const ours: JsonClient[] = [];
    const seeds: SeedClient[] = [];

    afterEach(async () => {
      for (const c of ours.splice(0)) c.kill();
      for (const s of seeds.splice(0)) s.proc.kill();
      await server?.stop();
      server = undefined;
    });

    for (const mode of ['v2 client (identity)', '--legacy v1 client']) {
      it(`chats both ways with our ${mode} through our server`, async () => {
        server = await spawnServe();
        const seed = spawnSeed('pyseed', server);
        seeds.push(seed);
        await seed.waitFor((e) => e.event === 'welcome');
        const alice = spawnJsonClient('alice', server.port, [
          '--pin',
          server.pin,
          ...(mode.startsWith('--legacy') ? ['--legacy'] : []),
        ]);
        ours.push(alice);
        await alice.waitFor((e) => e.kind === 'users');
        await seed.waitFor((e) => e.event === 'users' && (e.users as string[]).includes('alice'));

        alice.send('/to pyseed hola desde TypeScript ✓');
        const got = await seed.waitFor((e) => e.event === 'message');
        expect(got).toEqual({ event: 'message', from: 'alice', text: 'hola desde TypeScript ✓' });

        seed.send('send alice hello from Python é');
        const back = await alice.waitFor((e) => e.kind === 'message' && e.direction === 'in');
        expect(back).toMatchObject({
          from: 'pyseed',
          text: 'hello from Python é',
          protection: 'e2ee-v1',
          keyStatus: 'legacy',
        });

        const logs = server.stdout.join('\n');
        expect(logs).not.toContain('hola desde');
        expect(logs).not.toContain('hello from Python');
      });
    }
  },
);

describe.skipIf(!hasOpenssl)('interop with a raw TLS peer (openssl s_client)', () => {
  let server: ServeProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('sends a hello and receives the welcome', async () => {
    server = await spawnServe();
    const pub = Buffer.alloc(32, 7).toString('base64');
    const proc = spawn(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${server.port}`, '-quiet', '-CAfile', server.certPath],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    proc.stdin!.write(`${JSON.stringify({ type: 'hello', user: 'openssl', pub })}\n`);
    const line = await waitUntil(
      () => out.split('\n').find((l) => l.startsWith('{"type":"welcome"')),
      10_000,
      () => `a welcome from openssl s_client; got ${out}`,
    );
    proc.kill();
    expect(JSON.parse(line)).toEqual({ type: 'welcome', users: { openssl: pub } });
  });
});
