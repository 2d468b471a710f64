import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type JsonClient, type ServeProcess, spawnJsonClient, spawnServe } from '../helpers/cli.js';

type Event = Record<string, unknown>;
const incoming = (from: string, text: string) => (e: Event) =>
  e.kind === 'message' && e.direction === 'in' && e.from === from && e.text === text;
const knows = (user: string) => (e: Event) =>
  (e.kind === 'presence' && e.event === 'join' && e.user === user) ||
  (e.kind === 'users' && (e.users as Array<{ name: string }>).some((u) => u.name === user));
const home = (name: string) => mkdtempSync(join(tmpdir(), `securechat-${name}-`));

describe('end-to-end: forward-secret v2 sessions through the real CLI', () => {
  let server: ServeProcess | undefined;
  const clients: JsonClient[] = [];
  const connect = (user: string, dir: string, extra: string[] = []) => {
    const client = spawnJsonClient(user, server!.port, ['--pin', server!.pin, ...extra], {
      home: dir,
    });
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.kill();
    await server?.stop();
    server = undefined;
  });

  it('uses the ratchet between v2 clients, and survives a client restart', async () => {
    server = await spawnServe();
    const aliceHome = home('alice');
    const bobHome = home('bob');
    const alice = connect('alice', aliceHome);
    let bob = connect('bob', bobHome);
    await alice.waitFor(knows('bob'));
    alice.send('/to bob first ratchet message');
    const got = await bob.waitFor(incoming('alice', 'first ratchet message'));
    expect(got.protection).toBe('e2ee-pq');
    bob.send('/to alice reply');
    await alice.waitFor(incoming('bob', 'reply'));
    // The state database (and its write-ahead log) holds only encrypted rows.
    const stateFile = join(bobHome, 'sessions', 'bob.db');
    expect(existsSync(stateFile)).toBe(true);
    for (const file of [stateFile, `${stateFile}-wal`].filter((f) => existsSync(f)))
      expect(readFileSync(file).toString('latin1')).not.toMatch(/rootKey|sendChain|first ratchet/);

    expect(await bob.end()).toBe(0);
    bob = connect('bob', bobHome);
    await bob.waitFor((e) => e.kind === 'users');
    await alice.waitFor((e) => e.kind === 'presence' && e.event === 'join' && e.user === 'bob');
    alice.send('/to bob after your restart');
    const after = await bob.waitFor(incoming('alice', 'after your restart'));
    expect(after.protection).toBe('e2ee-pq');
    bob.send('/to alice still here');
    await alice.waitFor(incoming('bob', 'still here'));
    const warnings = [...alice.events, ...bob.events].filter((e) => e.kind === 'warning');
    expect(warnings).toEqual([]);
  });

  it('starts a session while the peer is offline; the server stores it until they return', async () => {
    server = await spawnServe();
    const bobHome = home('bob');
    let bob = connect('bob', bobHome);
    await bob.waitFor((e) => e.kind === 'users');
    await new Promise((r) => setTimeout(r, 300)); // prekeys uploaded
    expect(await bob.end()).toBe(0);

    const alice = connect('alice', home('alice'));
    await alice.waitFor((e) => e.kind === 'users');
    alice.send('/to bob written while you were away');
    const stored = await alice.waitFor((e) => e.kind === 'delivery' && e.status === 'stored');
    expect(String(stored.reason)).toMatch(/offline/);

    bob = connect('bob', bobHome);
    const got = await bob.waitFor(incoming('alice', 'written while you were away'));
    expect(got.protection).toBe('e2ee-pq');
    bob.send('/to alice got it');
    await alice.waitFor(incoming('bob', 'got it'));
  });

  it('falls back to the v1 envelope for legacy peers and says so', async () => {
    server = await spawnServe();
    const alice = connect('alice', home('alice'));
    const seed = connect('seed', home('seed'), ['--legacy']);
    await alice.waitFor(knows('seed'));
    alice.send('/to seed hello old friend');
    const got = await seed.waitFor(incoming('alice', 'hello old friend'));
    expect(got.protection).toBe('e2ee-v1');
    const sent = alice.events.find(
      (e) => e.kind === 'message' && e.direction === 'out' && e.to === 'seed',
    );
    expect(sent?.protection).toBe('e2ee-v1');
    seed.send('/to alice hi back');
    expect((await alice.waitFor(incoming('seed', 'hi back'))).keyStatus).toBe('legacy');
  });

  it('recovers cleanly when a client lost its session keys (reset, then a new session)', async () => {
    server = await spawnServe();
    const aliceHome = home('alice');
    const bobHome = home('bob');
    const alice = connect('alice', aliceHome);
    let bob = connect('bob', bobHome);
    await alice.waitFor(knows('bob'));
    alice.send('/to bob one');
    await bob.waitFor(incoming('alice', 'one'));
    bob.send('/to alice two');
    await alice.waitFor(incoming('bob', 'two'));
    expect(await bob.end()).toBe(0);
    rmSync(join(bobHome, 'sessions'), { recursive: true, force: true }); // bob loses his session keys
    bob = connect('bob', bobHome);
    await alice.waitFor((e) => e.kind === 'presence' && e.event === 'join' && e.user === 'bob');
    await bob.waitFor((e) => e.kind === 'users');
    alice.send('/to bob lost in the void');
    await bob.waitFor((e) => e.kind === 'undecryptable' && e.code === 'E_RATCHET_NO_SESSION');
    await alice.waitFor((e) => e.kind === 'warning' && e.code === 'E_SESSION_RESET');
    alice.send('/to bob fresh start');
    expect((await bob.waitFor(incoming('alice', 'fresh start'))).protection).toBe('e2ee-pq');
  });
});
