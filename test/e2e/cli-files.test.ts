import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type JsonClient, type ServeProcess, spawnJsonClient, spawnServe } from '../helpers/cli.js';

const transfer = (phase: string, name: string) => (e: Record<string, unknown>) =>
  e.kind === 'transfer' && e.phase === phase && e.name === name;

describe('end-to-end: /send and /accept with the real CLI in --json mode', () => {
  let server: ServeProcess | undefined;
  const clients: JsonClient[] = [];
  let dir = '';

  afterEach(async () => {
    for (const client of clients.splice(0)) client.kill();
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('offers, accepts and saves a file; /transfers lists it; the events are JSON lines', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-e2e-files-'));
    server = await spawnServe(['--files-dir', join(dir, 'store')]);
    const downloads = join(dir, 'downloads');
    const alice = spawnJsonClient('alice', server.port, ['--pin', server.pin]);
    const bob = spawnJsonClient('bob', server.port, [
      '--pin',
      server.pin,
      '--downloads',
      downloads,
    ]);
    clients.push(alice, bob);
    await alice.waitFor((e) => e.kind === 'users');
    await bob.waitFor((e) => e.kind === 'users');
    const path = join(dir, 'report.pdf');
    const body = Buffer.alloc(100_000, 'report ');
    writeFileSync(path, body);
    alice.send(`/send bob ${path}`);
    const offer = await bob.waitFor(transfer('offer', 'report.pdf'));
    expect(offer).toMatchObject({ direction: 'down', peer: 'alice', size: 100_000, bytes: 0 });
    expect(offer.id).toMatch(/^[0-9a-f]{6}$/);
    bob.send(`/accept ${offer.id}`);
    const done = await bob.waitFor(transfer('done', 'report.pdf'));
    expect(done.path).toBe(join(downloads, 'report.pdf'));
    expect(readFileSync(join(downloads, 'report.pdf')).equals(body)).toBe(true);
    await alice.waitFor(transfer('done', 'report.pdf'));
    bob.send('/transfers');
    const list = await bob.waitFor((e) => e.kind === 'transfers');
    expect(list.transfers).toEqual([
      expect.objectContaining({ id: offer.id, state: 'done', name: 'report.pdf' }),
    ]);
    expect(server.stdout.join('\n')).not.toContain('report ');
    expect(await alice.end()).toBe(0);
    expect(await bob.end()).toBe(0);
  });
});
