import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate, type TestCertificate } from '../helpers/certs.js';
import {
  type JsonClient,
  type ServeProcess,
  spawnJsonClient,
  spawnServeOn,
  waitUntil,
} from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

/**
 * The independent seed-protocol Python client (test/interop/seed_client.py) on one node of
 * a cluster chatting both ways with our CLI client on the other node.
 */
const SEED_CLIENT = fileURLToPath(new URL('../interop/seed_client.py', import.meta.url));
const hasPythonCrypto =
  spawnSync('python3', ['-c', 'import cryptography'], { encoding: 'utf8', timeout: 10_000 })
    .status === 0;

let redis: TestRedis;
let cert: TestCertificate;
const daemons: ServeProcess[] = [];
const ours: JsonClient[] = [];
const kill: Array<() => void> = [];

beforeAll(async () => {
  redis = await startTestRedis();
  cert = await makeCertificate();
});
afterAll(async () => {
  await redis?.close();
});
afterEach(async () => {
  for (const c of ours.splice(0)) c.kill();
  for (const k of kill.splice(0)) k();
  for (const d of daemons.splice(0)) await d.stop();
});

async function node(): Promise<ServeProcess> {
  const started = await spawnServeOn(cert, ['--redis', redis.url]);
  daemons.push(started);
  return started;
}

describe.skipIf(!hasPythonCrypto)('the seed client on one node, ours on another', () => {
  it('chats both ways across the nodes', async () => {
    const [a, b] = [await node(), await node()];
    const proc = spawn(
      'python3',
      [SEED_CLIENT, 'pyseed', '127.0.0.1', String(a.port), cert.certPath, '40'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    kill.push(() => proc.kill('SIGKILL'));
    const events: Array<Record<string, unknown>> = [];
    let buffer = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        events.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
        buffer = buffer.slice(nl + 1);
      }
    });
    await waitUntil(
      () => events.find((e) => e.event === 'welcome'),
      15_000,
      () => 'seed welcome',
    );

    const alice = spawnJsonClient('alice', b.port, ['--pin', b.pin]);
    ours.push(alice);
    await alice.waitFor(
      (e) =>
        e.kind === 'users' && (e.users as Array<{ name: string }>).some((u) => u.name === 'pyseed'),
    );
    await waitUntil(
      () =>
        events.find(
          (e) =>
            (e.event === 'users' || e.event === 'welcome') &&
            Object.hasOwn(e.users as object, 'alice'),
        ),
      15_000,
      () => `seed sees alice; ${JSON.stringify(events)}`,
    );
    alice.send('/to pyseed hello across nodes ✓');
    const got = await waitUntil(
      () => events.find((e) => e.event === 'message' && e.from === 'alice'),
      15_000,
      () => `seed got the message; ${JSON.stringify(events)}`,
    );
    expect(got.text).toBe('hello across nodes ✓');
    proc.stdin.write('send alice hi from python on node a\n');
    const back = await alice.waitFor(
      (e) => e.kind === 'message' && e.direction === 'in' && e.from === 'pyseed',
    );
    expect(back).toMatchObject({ text: 'hi from python on node a', protection: 'e2ee-v1' });
  });
});
