import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClientState } from '../../../src/client/e2ee/client-state.js';
import { StateLockedError } from '../../../src/client/state/client-lock.js';
import { StateDb, statePaths } from '../../../src/client/state/state-db.js';
import { decodeHeader, fromBase64, toBase64 } from '../../../src/protocol/index.js';
import { openSide, pair, relay, reopen, type Side } from './state-fixtures.js';

const rows = (s: Side, table: string) =>
  (s.state.db.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const stateBytes = (s: Side) =>
  ['db', 'db-wal']
    .map((ext) => join(s.home, 'sessions', `${s.name}.${ext}`))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'))
    .join('');

describe('client state store: incremental, encrypted, locked', () => {
  it('a message writes one transaction of a few rows; nothing secret is readable on disk', async () => {
    const { alice, bob } = pair();
    const sent = [];
    for (const text of ['one', 'two', 'three secret words']) {
      sent.push(
        relay(
          (await alice.peers.seal('bob', text, { trusted: sent.length ? bob.idk : undefined }))
            .envelope,
        ),
      );
    }
    const before = bob.state.db.generation;
    expect(bob.peers.open(sent[2]!, [alice.idk])).toMatchObject({ ok: true });
    // One write transaction (init recorded, session and its two skipped keys stored).
    expect(bob.state.db.generation).toBe(before + 1);
    expect(rows(bob, 'session')).toBe(1);
    expect(rows(bob, 'skipped_key')).toBe(2);
    expect(bob.peers.open(sent[0]!, [alice.idk])).toMatchObject({ ok: true, text: 'one' });
    expect(rows(bob, 'skipped_key')).toBe(1);
    const record = bob.state.sessions.sessions(alice.idk)[0]!;
    const disk = stateBytes(bob);
    for (const secret of [
      record.state.rootKey,
      record.state.recvChain!,
      record.state.skipped[0]!.messageKey,
      bob.state.prekeys.current.pair.secretKey,
    ]) {
      expect(disk).not.toContain(toBase64(secret));
      expect(disk).not.toContain(Buffer.from(secret).toString('latin1'));
    }
    expect(disk).not.toContain('three secret words');
    expect(disk).not.toContain(alice.idk); // peers are keyed tags
  });

  it('a second open of the same identity is refused, naming the holder; closing releases it', () => {
    const alice = openSide('alice');
    let error: unknown;
    try {
      StateDb.open(alice.home, 'alice');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateLockedError);
    expect((error as StateLockedError).message).toMatch(
      new RegExp(`in use by another securechat client \\(pid ${process.pid}, started `),
    );
    alice.state.db.close();
    const again = StateDb.open(alice.home, 'alice');
    expect(again.rolledBack).toBeUndefined();
    again.close();
  });

  it('a state database of another identity is refused, not overwritten', () => {
    const alice = openSide('alice');
    alice.state.db.close();
    const mallory = openSide('mallory');
    const db = StateDb.open(alice.home, 'alice');
    expect(() => loadClientState(db, mallory.identity)).toThrow(/belongs to another identity key/);
    db.close();
  });
});

describe('a restored older state (the session store copied back from a backup)', () => {
  async function talk(alice: Side, bob: Side, text: string) {
    const sealed = await alice.peers.seal('bob', text, { trusted: bob.idk, randomNonce: true });
    const frame = relay(sealed.envelope);
    return {
      frame,
      opened: bob.peers.open(frame, [alice.idk]),
      header: decodeHeader(fromBase64(frame.header!, 'h')),
    };
  }

  it('is detected, every session starts anew, and no message number is used twice', async () => {
    let { alice, bob } = pair();
    const headers: string[] = [];
    const note = (h: ReturnType<typeof decodeHeader>) => headers.push(`${toBase64(h.dh)}|${h.n}`);
    note((await talk(alice, bob, 'before the backup')).header);
    const backup = mkdtempSync(join(tmpdir(), 'securechat-backup-'));
    alice.state.db.close();
    const paths = statePaths(alice.home, 'alice');
    for (const file of readdirSync(paths.dir).filter((f) => f.startsWith('alice.db')))
      cpSync(join(paths.dir, file), join(backup, file));
    alice = reopen(alice);
    for (const text of ['after the backup 1', 'after the backup 2']) {
      const out = await talk(alice, bob, text);
      expect(out.opened).toMatchObject({ ok: true, text });
      note(out.header);
    }
    alice.state.db.close();
    for (const file of readdirSync(backup)) cpSync(join(backup, file), join(paths.dir, file));
    alice = reopen(alice);
    expect(alice.state.rolledBack).toBe('older-than-witness');
    expect(alice.state.sessions.sessions(bob.idk).every((r) => r.stale)).toBe(true);
    const after = await talk(alice, bob, 'after the restore');
    expect(after.header.init).toBeDefined(); // a new session, not the restored one
    expect(after.opened).toMatchObject({ ok: true, text: 'after the restore' });
    note(after.header);
    expect(new Set(headers).size).toBe(headers.length);
    // The next start is quiet: the handling was written, and the witness moved with it.
    alice = reopen(alice);
    expect(alice.state.rolledBack).toBeUndefined();
  });
});
