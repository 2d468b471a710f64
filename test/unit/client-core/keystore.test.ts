import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createIdentity,
  identityFileStatus,
  identityPath,
  KeystoreError,
  loadIdentityFile,
} from '../../../src/client/identity/keystore.js';

// Cheap scrypt for tests (the real cost, N = 2^17, is exercised by one test below).
const FAST = { N: 2 ** 10, r: 8, p: 1 } as const;
const tempDir = () => mkdtempSync(join(tmpdir(), 'securechat-keys-'));

describe('identity keystore', () => {
  it('creates a 0600 key file in a 0700 directory and loads it back', () => {
    const dir = tempDir();
    const created = createIdentity(dir, 'Alice', undefined, FAST);
    const path = identityPath(dir, 'alice');
    expect(created.path).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'identities')).mode & 0o777).toBe(0o700);
    const loaded = loadIdentityFile(path, undefined);
    expect(loaded.identity.publicKey).toEqual(created.identity.publicKey);
    expect(loaded.x25519.secretKey).toEqual(created.x25519.secretKey);
    expect(identityFileStatus(dir, 'alice')).toBe('plain');
  });

  it('encrypts under a passphrase; a wrong one is a clear error and changes nothing', () => {
    const dir = tempDir();
    const created = createIdentity(dir, 'bob', 'correct horse', FAST);
    const path = created.path;
    const before = readFileSync(path, 'utf8');
    expect(before).not.toContain(Buffer.from(created.identity.secretKey).toString('base64'));
    expect(identityFileStatus(dir, 'bob')).toBe('encrypted');
    expect(() => loadIdentityFile(path, 'wrong horse')).toThrow(
      expect.objectContaining({ code: 'E_KEY_PASSPHRASE' }),
    );
    expect(() => loadIdentityFile(path, undefined)).toThrow(KeystoreError);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(loadIdentityFile(path, 'correct horse').identity.secretKey).toEqual(
      created.identity.secretKey,
    );
  });

  it('detects tampering with the authenticated public header', () => {
    const dir = tempDir();
    const created = createIdentity(dir, 'carol', 'pw', FAST);
    const file = JSON.parse(readFileSync(created.path, 'utf8'));
    file.name = 'mallory';
    writeFileSync(created.path, JSON.stringify(file));
    expect(() => loadIdentityFile(created.path, 'pw')).toThrow(
      expect.objectContaining({ code: 'E_KEY_PASSPHRASE' }),
    );
  });

  it('rejects a plain file whose secrets do not match its public keys', () => {
    const dir = tempDir();
    const a = createIdentity(dir, 'dave', undefined, FAST);
    const b = createIdentity(dir, 'erin', undefined, FAST);
    const file = JSON.parse(readFileSync(a.path, 'utf8'));
    file.secrets = JSON.parse(readFileSync(b.path, 'utf8')).secrets;
    writeFileSync(a.path, JSON.stringify(file));
    expect(() => loadIdentityFile(a.path, undefined)).toThrow(
      expect.objectContaining({ code: 'E_KEY_FILE' }),
    );
  });

  it('never overwrites an existing identity', () => {
    const dir = tempDir();
    createIdentity(dir, 'frank', undefined, FAST);
    expect(() => createIdentity(dir, 'FRANK', undefined, FAST)).toThrow(
      expect.objectContaining({ code: 'E_KEY_EXISTS' }),
    );
  });

  it('uses scrypt N=2^17 by default', () => {
    const dir = tempDir();
    const created = createIdentity(dir, 'grace', 'pw');
    expect(JSON.parse(readFileSync(created.path, 'utf8')).kdf).toMatchObject({
      N: 131072,
      r: 8,
      p: 1,
    });
  });
});
