import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  bundleFor,
  type Clock,
  openSide,
  relay,
  reopen,
} from '../unit/client-core/state-fixtures.js';

/** Every AES-GCM (key, IV) pair the process uses while `capture` is on. */
const seals = vi.hoisted(() => ({ capture: false, pairs: [] as string[] }));
vi.mock('node:crypto', async (original) => {
  const crypto = await original<typeof import('node:crypto')>();
  return {
    ...crypto,
    createCipheriv: ((...args: Parameters<typeof crypto.createCipheriv>) => {
      if (seals.capture) {
        const [, key, iv] = args;
        seals.pairs.push(
          `${Buffer.from(key as Uint8Array).toString('hex')}|${Buffer.from(iv as Uint8Array).toString('hex')}`,
        );
      }
      return crypto.createCipheriv(...args);
    }) as typeof crypto.createCipheriv,
  };
});

type Peer = 'bob' | 'carol';
type Op =
  | { kind: 'send'; to: Peer }
  | { kind: 'receive'; from: Peer }
  | { kind: 'restart' }
  | { kind: 'backup' }
  | { kind: 'restore'; whole: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      to: fc.constantFrom<Peer>('bob', 'carol'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('receive' as const),
      from: fc.constantFrom<Peer>('bob', 'carol'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'backup' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('restore' as const), whole: fc.boolean() }),
  },
);

/** With `capture` on: alice's own work only (her peers are simulated in the same process). */
async function asAlice<T>(work: () => Promise<T> | T): Promise<T> {
  seals.capture = true;
  try {
    return await work();
  } finally {
    seals.capture = false;
  }
}

function copyState(from: string, to: string, whole: boolean): void {
  for (const file of readdirSync(to).filter((f) => f.startsWith('alice.'))) {
    if (whole || file.startsWith('alice.db')) rmSync(join(to, file));
  }
  for (const file of readdirSync(from)) {
    if (whole || file.startsWith('alice.db')) cpSync(join(from, file), join(to, file));
  }
}

describe('no (key, nonce) pair is ever used twice by one client (property)', () => {
  it('across random interleavings of sends, receives, restarts, backups and restores (of the store alone or of the whole home)', async () => {
    let sealed = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 18 }), async (ops) => {
        seals.pairs.length = 0;
        const clock: Clock = { now: 1_800_000_000_000 };
        let alice = await asAlice(() => openSide('alice', { clock }));
        // bob opens random-nonce messages; carol is an older client (derived nonces only).
        const bob = openSide('bob', { clock, fallback: () => bundleFor(alice) });
        const carol = openSide('carol', {
          clock,
          fallback: () => ({ ...bundleFor(alice), caps: ['ratchet'] }),
        });
        const peers = { bob, carol };
        const backup = mkdtempSync(join(tmpdir(), 'securechat-prop-backup-'));
        let hasBackup = false;
        const dir = join(alice.home, 'sessions');
        try {
          for (const step of ops) {
            clock.now += 1000;
            switch (step.kind) {
              case 'send': {
                const peer = peers[step.to];
                alice.bundles.push(
                  step.to === 'bob' ? bundleFor(bob) : { ...bundleFor(carol), caps: ['ratchet'] },
                );
                const sealed = await asAlice(() =>
                  alice.peers.seal(step.to, `to ${step.to}`, {
                    trusted: peer.idk,
                    randomNonce: step.to === 'bob',
                  }),
                );
                alice.bundles.length = 0;
                peer.peers.open(relay(sealed.envelope), [alice.idk]);
                break;
              }
              case 'receive': {
                const peer = peers[step.from];
                const sealed = await peer.peers.seal('alice', `from ${step.from}`, {
                  trusted: alice.idk,
                  randomNonce: step.from === 'bob',
                });
                await asAlice(() => alice.peers.open(relay(sealed.envelope), [peer.idk]));
                break;
              }
              case 'restart':
                alice = await asAlice(() => reopen(alice));
                break;
              case 'backup':
                alice.state.db.close();
                copyState(dir, backup, true);
                hasBackup = true;
                alice = await asAlice(() => reopen(alice));
                break;
              case 'restore':
                if (!hasBackup) break;
                alice.state.db.close();
                copyState(backup, dir, step.whole);
                alice = await asAlice(() => reopen(alice));
                break;
            }
          }
          sealed += seals.pairs.length;
          expect(new Set(seals.pairs).size).toBe(seals.pairs.length);
        } finally {
          for (const side of [alice, bob, carol]) side.state.db.close();
          rmSync(backup, { recursive: true, force: true });
          for (const side of [alice, bob, carol])
            if (existsSync(side.home)) rmSync(side.home, { recursive: true, force: true });
        }
      }),
      {
        numRuns: 40,
        // The interleavings that reuse a message key unless the client prevents it.
        examples: [false, true].flatMap((whole) =>
          (['bob', 'carol'] as const).map((to): [Op[]] => [
            [
              { kind: 'send', to },
              { kind: 'backup' },
              { kind: 'send', to },
              { kind: 'restore', whole },
              { kind: 'send', to },
              { kind: 'restart' },
              { kind: 'send', to },
            ],
          ]),
        ),
      },
    );
    expect(sealed).toBeGreaterThan(0); // the capture works
  }, 120_000);
});
