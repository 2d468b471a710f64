/**
 * Issue 15: `securechat keys` without a name lists the identities, and showing a
 * fingerprint needs no passphrase (the public header is in clear), labelled as the one to
 * compare.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createIdentity,
  fingerprintOf,
  listIdentities,
  readIdentityHeader,
} from '../../src/client/identity/keystore.js';
import { CLI } from '../helpers/cli.js';

const FAST = { N: 2 ** 10, r: 8, p: 1 } as const;
const keys = (home: string, ...args: string[]) =>
  spawnSync(process.execPath, [CLI, 'keys', ...args, '--home', home], {
    encoding: 'utf8',
    env: { ...process.env, SECURECHAT_PASSPHRASE: undefined },
    timeout: 20_000,
  });

describe('securechat keys', () => {
  const home = mkdtempSync(join(tmpdir(), 'securechat-keys-'));
  const alice = createIdentity(home, 'alice', 'secret passphrase', FAST);
  const bob = createIdentity(home, 'bob', undefined, FAST);

  it('reads the fingerprint from the public header, without the passphrase', () => {
    expect(readIdentityHeader(alice.path)).toMatchObject({
      name: 'alice',
      fingerprint: fingerprintOf(alice),
      encrypted: true,
    });
    expect(listIdentities(home).map((i) => i.name)).toEqual(['alice', 'bob']);
  });

  it('without a name lists every identity with its fingerprint', () => {
    const run = keys(home);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(fingerprintOf(alice));
    expect(run.stdout).toContain(fingerprintOf(bob));
    expect(run.stdout).toMatch(/alice .* passphrase-protected/);
  });

  it('shows a protected key without asking, labelled as the one to compare', () => {
    const run = keys(home, 'alice');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`identity ${fingerprintOf(alice)}  <- the fingerprint to compare`);
    expect(run.stderr).toBe('');
  });
});
