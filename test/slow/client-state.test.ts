import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromBase64, isRatchetAlg } from '../../src/protocol/index.js';
import type { JsonClient } from '../helpers/cli.js';
import {
  type Event,
  homeDir,
  incoming,
  knows,
  scenarioPerTest,
} from '../helpers/hostile/scenario.js';

/** Resolves with the exit code once `client` has exited (whether or not it already did). */
function exited(client: JsonClient): Promise<number | null> {
  const { proc } = client;
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

/** Copies the state database files (not its witness) of `user` from one directory to another. */
function copyDb(user: string, from: string, to: string): void {
  for (const file of readdirSync(to).filter((f) => f.startsWith(`${user}.db`)))
    rmSync(join(to, file));
  for (const file of readdirSync(from).filter((f) => f.startsWith(`${user}.db`)))
    cpSync(join(from, file), join(to, file));
}

/** "ratchet key|message number" of every ratchet relay a client sent. */
const messageNumbers = (relays: Array<Record<string, unknown>>) =>
  relays
    .filter((r) => isRatchetAlg(String(r.alg)))
    .map((r) => {
      const header = fromBase64(String(r.header), 'header');
      return `${Buffer.from(header.subarray(2, 34)).toString('base64')}|${Buffer.from(header.subarray(38, 42)).readUInt32BE()}`;
    });

// Several real clients per test on a shared 2-core machine: generous, bounded.
describe('the client state: one client per home, restores, prekeys (real CLI)', {
  timeout: 60_000,
}, () => {
  const start = scenarioPerTest();

  it('a second client on the same home refuses to start, naming the first; a killed client’s lock is taken over', async () => {
    const scenario = await start();
    const home = homeDir('alice');
    const first = scenario.connect('alice', home);
    await first.waitFor((e) => e.kind === 'users');
    const second = scenario.connect('alice', home);
    expect(await exited(second)).toBe(1);
    expect(second.stderr.join('\n')).toMatch(
      new RegExp(
        `in use by another securechat client \\(pid ${first.proc.pid}, started .*connect alice`,
      ),
    );
    expect(second.events.some((e) => e.kind === 'connection')).toBe(false);

    first.kill();
    await exited(first);
    const third = scenario.connect('alice', home);
    await third.waitFor(
      (e) =>
        e.kind === 'info' &&
        String(e.text).includes(`ended without closing (pid ${first.proc.pid})`),
    );
    await third.waitFor((e) => e.kind === 'users');
  });

  it('a restored older session store is detected: the next message starts a new session and no message key is used twice', async () => {
    const scenario = await start();
    const home = homeDir('alice');
    const stateDir = join(home, 'sessions');
    let alice = scenario.connect('alice', home);
    const bob = scenario.connect('bob');
    await scenario.converse(alice, bob);
    expect(await alice.end()).toBe(0);
    const backup = mkdtempSync(join(tmpdir(), 'securechat-backup-'));
    copyDb('alice', stateDir, backup);

    alice = scenario.connect('alice', home);
    await alice.waitFor(knows('bob'));
    for (const text of ['after the backup 1', 'after the backup 2']) {
      alice.send(`/to bob ${text}`);
      await bob.waitFor(incoming('alice', text));
    }
    expect(await alice.end()).toBe(0);
    copyDb('alice', backup, stateDir);

    alice = scenario.connect('alice', home);
    await alice.waitFor((e: Event) => e.kind === 'warning' && e.code === 'E_RESTORED');
    await alice.waitFor(knows('bob'));
    alice.send('/to bob after the restore');
    await bob.waitFor(incoming('alice', 'after the restore'));
    const numbers = messageNumbers(scenario.server.relaysFrom('alice'));
    expect(numbers.length).toBeGreaterThanOrEqual(4);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(scenario.server.attacker.read('after the')).toBe(false);
  });

  it('false "prekeys stored" counts get at most an hour’s allowance of one-time prekeys', async () => {
    const scenario = await start();
    const { server } = scenario;
    // Fifty counts after the welcome, each claiming the server holds none (or too many).
    server.prekeyCounts = Array.from({ length: 50 }, (_, i) => ({
      type: 'prekeys',
      stored: i % 2 ? 0 : 100_000,
    }));
    const alice = scenario.connect('alice');
    await alice.waitFor((e) => e.kind === 'users');
    await scenario.handled('alice', alice);
    await scenario.sent('alice', alice);
    const uploads =
      server.relaysFrom('alice').length === 0
        ? (server.received.get('alice') ?? []).filter((f) => f.type === 'prekeys')
        : [];
    const keys = uploads.reduce((n, f) => n + ((f.keys as unknown[] | undefined)?.length ?? 0), 0);
    expect(keys).toBe(200); // the previous client made 100 per count: 5,000 here
  });

  it('a server that strips the signed prekey of a peer seen with one gets no session and no plaintext', async () => {
    const scenario = await start();
    const { server } = scenario;
    scenario.connect('bob');
    const carol = scenario.connect('carol');
    await carol.waitFor(knows('bob'));
    await scenario.handled('carol', carol);
    server.stripSignedPrekeys = true;
    const secret = 'meet at the usual place';
    carol.send(`/to bob ${secret}`);
    const outcome = await scenario.settled('carol', carol, secret);
    expect(outcome).toMatchObject({ kind: 'delivery', status: 'failed' });
    expect(String(outcome.reason)).toMatch(/rotating signed prekeys/);
    expect(server.relaysFrom('carol')).toEqual([]);
    expect(server.attacker.read(secret)).toBe(false);
  });
});
