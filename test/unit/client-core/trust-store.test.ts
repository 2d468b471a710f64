import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KnownServers } from '../../../src/client/net/known-servers.js';
import { TrustStore } from '../../../src/client/trust/trust-store.js';

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

  it('loads the version 1 file the previous version wrote; a rotation keeps the old pin in history', () => {
    const home = dir();
    writeFileSync(
      join(home, 'known-servers.json'),
      JSON.stringify({
        format: 'securechat-known-servers',
        version: 1,
        servers: { 'h:1': { pin: 'sha256:aa', firstSeen: 1 }, bad: { pin: 3 } },
      }),
    );
    const known = new KnownServers(home);
    expect(known.get('h:1')).toBe('sha256:aa');
    expect(known.get('bad')).toBeUndefined();
    expect(known.rotate('h:1', 'sha256:bb', 5)).toBe('sha256:aa');
    const saved = JSON.parse(readFileSync(join(home, 'known-servers.json'), 'utf8'));
    expect(saved.version).toBe(2);
    expect(saved.servers['h:1']).toEqual({
      pin: 'sha256:bb',
      firstSeen: 5,
      previous: [{ pin: 'sha256:aa', until: 5 }],
    });
  });
});
