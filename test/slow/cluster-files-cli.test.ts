import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate, type TestCertificate } from '../helpers/certs.js';
import {
  type JsonClient,
  type ServeProcess,
  spawnJsonClient,
  spawnServeOn,
} from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

/**
 * A file sent through one daemon of a cluster and saved through another, with the real CLI:
 * two `serve --redis` processes sharing one `--files-dir`, the sender on node A, the
 * recipient (auto-accepting) on node B, downloading while the upload goes on.
 */
let redis: TestRedis;
let cert: TestCertificate;
let dir: string;
const daemons: ServeProcess[] = [];
const clients: JsonClient[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  cert = await makeCertificate();
  dir = mkdtempSync(join(tmpdir(), 'sc-cluster-files-cli-'));
});
afterAll(async () => {
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.kill();
  for (const daemon of daemons.splice(0)) await daemon.stop();
});

async function node(filesDir: string): Promise<ServeProcess> {
  const args = ['--redis', redis.url, '--files-dir', filesDir, '--log-level', 'warn'];
  const started = await spawnServeOn(cert, args);
  daemons.push(started);
  return started;
}

const transfer = (phase: string, name: string) => (e: Record<string, unknown>) =>
  e.kind === 'transfer' && e.phase === phase && e.name === name;

describe('file transfer across two daemons of a cluster (real CLI, real Redis)', () => {
  it('alice on node A sends 24 MiB, bob on node B saves it while it is uploaded, digest checked', async () => {
    const filesDir = join(dir, 'store');
    const a = await node(filesDir);
    const b = await node(filesDir);
    const downloads = join(dir, 'downloads');
    const alice = spawnJsonClient('alice', a.port, ['--pin', a.pin]);
    const bob = spawnJsonClient('bob', b.port, [
      '--pin',
      b.pin,
      '--downloads',
      downloads,
      '--auto-accept',
      'alice:100m',
    ]);
    clients.push(alice, bob);
    const sees = (user: string) => (e: Record<string, unknown>) =>
      (e.kind === 'presence' && e.event === 'join' && e.user === user) ||
      (e.kind === 'users' && e.room === undefined && JSON.stringify(e.users).includes(`"${user}"`));
    await alice.waitFor(sees('bob'));
    await bob.waitFor(sees('alice'));
    const body = randomBytes(24 * 1024 * 1024);
    const path = join(dir, 'big.bin');
    writeFileSync(path, body);
    alice.send(`/send bob ${path}`);
    await bob.waitFor(transfer('offer', 'big.bin'), 30_000);
    const done = await bob.waitFor(transfer('done', 'big.bin'), 60_000);
    expect(done.path).toBe(join(downloads, 'big.bin'));
    const saved = readFileSync(join(downloads, 'big.bin'));
    expect(saved.length).toBe(body.length);
    const digest = (x: Buffer) => createHash('sha256').update(x).digest('hex');
    expect(digest(saved)).toBe(digest(body));
    await alice.waitFor(transfer('done', 'big.bin'), 30_000);
  }, 120_000);
});
