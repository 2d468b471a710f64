import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentityFile } from '../../../src/client/identity/keystore.js';
import { decodeHeader, fromBase64, type RelayFrame } from '../../../src/protocol/index.js';
import { openSide, relay } from './state-fixtures.js';

const FIXTURE = new URL('../../fixtures/main-state/', import.meta.url);

interface Pending {
  identities: Record<string, string>;
  toBob: Array<{ text: string; relay: RelayFrame }>;
  toAlice: Array<{ text: string; relay: RelayFrame }>;
}

/** A copy of a home written by securechat before the key lifecycle work (main at d90b1f7). */
function oldHome(name: string) {
  const home = mkdtempSync(join(tmpdir(), `securechat-migrate-${name}-`));
  cpSync(new URL(name, FIXTURE), home, { recursive: true });
  const identity = loadIdentityFile(join(home, 'identities', `${name}.json`), undefined);
  return openSide(name, { home, identity });
}

describe('migration: state written by the previous version loads and is upgraded', () => {
  it('sessions, one-time prekeys and skipped keys carry over; the old file is gone', async () => {
    const pending = JSON.parse(readFileSync(new URL('pending.json', FIXTURE), 'utf8')) as Pending;
    const { alice: aliceIdk, bob: bobIdk, carol: carolIdk } = pending.identities;
    const alice = oldHome('alice');
    const bob = oldHome('bob');
    for (const side of [alice, bob]) {
      expect(side.state.migrated).toBe(true);
      expect(side.state.rolledBack).toBeUndefined();
      expect(existsSync(join(side.home, 'sessions', `${side.name}.json`))).toBe(false);
    }
    // A first message made with the old hello key and a one-time prekey, stored in a
    // mailbox across the upgrade, opens (the one-time prekey secret was migrated).
    const fromCarol = pending.toAlice[0]!;
    expect(alice.peers.open(fromCarol.relay, [carolIdk!])).toMatchObject({
      ok: true,
      text: fromCarol.text,
    });
    // A message bob had skipped opens with the migrated skipped key.
    const held = pending.toBob[0]!;
    expect(bob.peers.open(held.relay, [aliceIdk!])).toMatchObject({ ok: true, text: held.text });
    // The conversation goes on in the migrated session (no new X3DH).
    const reply = await bob.peers.seal('alice', 'still talking', {
      trusted: aliceIdk,
      randomNonce: true,
    });
    expect(decodeHeader(fromBase64(reply.envelope.header, 'h')).init).toBeUndefined();
    expect(alice.peers.open(relay(reply.envelope), [bobIdk!])).toMatchObject({
      ok: true,
      text: 'still talking',
    });
    // Restarted, the upgraded store loads as it is (nothing imported twice, no restore).
    alice.state.db.close();
    const again = openSide('alice', { home: alice.home, identity: alice.identity });
    expect(again.state.migrated).toBe(false);
    expect(again.state.rolledBack).toBeUndefined();
    expect(again.state.sessions.sessions(bobIdk!)).toHaveLength(1);
  });

  it('a file left behind after its import (a crash before the deletion) is not imported twice', () => {
    const pending = JSON.parse(readFileSync(new URL('pending.json', FIXTURE), 'utf8')) as Pending;
    const alice = oldHome('alice');
    alice.state.db.close();
    cpSync(
      new URL('alice/sessions/alice.json', FIXTURE),
      join(alice.home, 'sessions', 'alice.json'),
    );
    const again = openSide('alice', { home: alice.home, identity: alice.identity });
    expect(again.state.sessions.sessions(pending.identities.bob!)).toHaveLength(1);
    expect(existsSync(join(alice.home, 'sessions', 'alice.json'))).toBe(false);
  });

  it('an unreadable file of the earlier version stops the start, says what to do, and stays', () => {
    const home = mkdtempSync(join(tmpdir(), 'securechat-migrate-bad-'));
    cpSync(new URL('alice', FIXTURE), home, { recursive: true });
    const identity = loadIdentityFile(join(home, 'identities', 'alice.json'), undefined);
    const file = join(home, 'sessions', 'alice.json');
    const text = readFileSync(file, 'utf8').replace(
      /"cipher":"(.)/,
      (_m, c: string) => `"cipher":"${c === 'A' ? 'B' : 'A'}`,
    );
    writeFileSync(file, text);
    expect(() => openSide('alice', { home, identity })).toThrow(/cannot be read.*move it aside/);
    expect(existsSync(file)).toBe(true);
  });
});
