import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KnownServers } from '../../../src/client/known-servers.js';
import { TrustStore } from '../../../src/client/trust-store.js';

const dir = () => mkdtempSync(join(tmpdir(), 'securechat-trust-'));
const SERVER = 'sha256:aa';

describe('TrustStore (known peers, TOFU)', () => {
  it('remembers the first key, flags a different one, persists across instances', () => {
    const home = dir();
    const store = new TrustStore(home, 'alice');
    expect(store.assess(SERVER, 'bob', 'K1')).toBe('new');
    expect(store.rememberIfNew(SERVER, 'bob', 'K1')).toBe('known');
    expect(store.assess(SERVER, 'BOB', 'K1')).toBe('known');
    expect(store.rememberIfNew(SERVER, 'bob', 'K2')).toBe('changed');
    const reloaded = new TrustStore(home, 'alice');
    expect(reloaded.assess(SERVER, 'bob', 'K2')).toBe('changed');
    expect(statSync(reloaded.path).mode & 0o777).toBe(0o600);
  });

  it('scopes names by server and by local user', () => {
    const home = dir();
    const store = new TrustStore(home, 'alice');
    store.rememberIfNew(SERVER, 'bob', 'K1');
    expect(store.assess('sha256:bb', 'bob', 'K2')).toBe('new');
    expect(new TrustStore(home, 'carol').assess(SERVER, 'bob', 'K2')).toBe('new');
  });

  it('verification sticks to the key and is cleared by trusting a new key', () => {
    const store = new TrustStore(dir(), 'alice');
    store.rememberIfNew(SERVER, 'bob', 'K1');
    store.markVerified(SERVER, 'bob', 'K1');
    expect(store.assess(SERVER, 'bob', 'K1')).toBe('verified');
    expect(store.assess(SERVER, 'bob', 'K2')).toBe('changed');
    store.trust(SERVER, 'bob', 'K2');
    expect(store.assess(SERVER, 'bob', 'K2')).toBe('known');
  });
});

describe('KnownServers', () => {
  it('stores pins by host:port, case-insensitively, across instances', () => {
    const home = dir();
    new KnownServers(home).remember('Example.ngrok.io:12345', 'sha256:cc');
    expect(new KnownServers(home).get('example.ngrok.io:12345')).toBe('sha256:cc');
    expect(new KnownServers(home).get('example.ngrok.io:1')).toBeUndefined();
  });
});
