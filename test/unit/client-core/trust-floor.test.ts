import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeLoss,
  missingFeatures,
  offeredFeatures,
  raisedFloor,
  readFloor,
} from '../../../src/client/trust/trust-floor.js';
import { TrustStore } from '../../../src/client/trust/trust-store.js';
import {
  generateIdentityKeyPair,
  identityFingerprint,
  toBase64,
} from '../../../src/protocol/index.js';

const dir = () => mkdtempSync(join(tmpdir(), 'securechat-floor-'));
const SERVER = 'sha256:aa';
const full = { v: 2, identity: true, ratchet: true, serverRatchet: true };

describe('trust floors (pure)', () => {
  it('the ratchet counts only with an identity and the server offering it', () => {
    expect(offeredFeatures(full)).toEqual(['identity', 'ratchet']);
    expect(offeredFeatures({ ...full, serverRatchet: false })).toEqual(['identity']);
    expect(offeredFeatures({ ...full, identity: false })).toEqual([]);
    expect(offeredFeatures({ v: 1, identity: false, ratchet: false, serverRatchet: true })).toEqual(
      [],
    );
  });

  it('rotating signed prekeys count only with the ratchet and the server storing them', () => {
    const withSpk = { ...full, spk: true, serverSpk: true };
    expect(offeredFeatures(withSpk)).toEqual(['identity', 'ratchet', 'spk']);
    expect(offeredFeatures({ ...withSpk, serverSpk: false })).toEqual(['identity', 'ratchet']);
    expect(offeredFeatures({ ...withSpk, ratchet: false })).toEqual(['identity']);
    const floor = { v: 2, features: offeredFeatures(withSpk) };
    // A server that strips spk from a peer seen with it lowers the floor: a downgrade.
    expect(missingFeatures(floor, offeredFeatures(full))).toEqual(['spk']);
    expect(describeLoss(['spk'])).toBe('no rotating signed prekeys');
  });

  it('what is missing is what the floor has and the offer lacks, in a stable order', () => {
    const floor = { v: 2, features: ['ratchet', 'identity'] as const };
    expect(missingFeatures({ v: 2, features: [...floor.features] }, [])).toEqual([
      'identity',
      'ratchet',
    ]);
    expect(missingFeatures({ v: 2, features: ['identity'] }, ['identity', 'ratchet'])).toEqual([]);
    expect(missingFeatures(undefined, [])).toEqual([]);
    expect(describeLoss(['ratchet', 'identity'])).toBe('no identity, no forward secrecy');
  });

  it('floors only rise; a floor that does not change is reported as such', () => {
    const first = raisedFloor(undefined, 2, ['identity']);
    expect(first).toEqual({ v: 2, features: ['identity'] });
    expect(raisedFloor(first, 2, ['identity'])).toBeUndefined();
    expect(raisedFloor(first, 1, [])).toBeUndefined();
    expect(raisedFloor(first, 2, ['identity', 'ratchet'])).toEqual({
      v: 2,
      features: ['identity', 'ratchet'],
    });
  });

  it('stored floors are read strictly: unknown features are dropped, bad shapes refused', () => {
    expect(readFloor({ v: 2, features: ['identity', 'pq-later', 'ratchet'] })).toEqual({
      v: 2,
      features: ['identity', 'ratchet'],
    });
    expect(readFloor({ v: '2', features: [] })).toBeUndefined();
    expect(readFloor(null)).toBeUndefined();
  });
});

describe('TrustStore with floors', () => {
  it('remembers the most a name was seen with; a changed key writes nothing', () => {
    const store = new TrustStore(dir(), 'alice');
    expect(store.observe(SERVER, 'bob', 'K1', 2, ['identity'])).toBe('known');
    expect(store.observe(SERVER, 'bob', 'K1', 2, ['identity', 'ratchet'])).toBe('known');
    expect(store.get(SERVER, 'bob')?.floor).toEqual({ v: 2, features: ['identity', 'ratchet'] });
    expect(store.observe(SERVER, 'bob', 'K2', 2, ['identity'])).toBe('changed');
    expect(store.get(SERVER, 'bob')?.identityKey).toBe('K1');
  });

  it('/trust records the lower floor explicitly, and keeps the remembered key', () => {
    const home = dir();
    const store = new TrustStore(home, 'alice');
    store.observe(SERVER, 'bob', 'K1', 2, ['identity', 'ratchet']);
    store.accept(SERVER, 'bob', undefined, { v: 1, features: [] });
    const reloaded = new TrustStore(home, 'alice');
    expect(reloaded.get(SERVER, 'bob')).toMatchObject({
      identityKey: 'K1',
      floor: { v: 1, features: [] },
    });
  });

  it('an invite decides on sight: its key becomes verified, another is changed', () => {
    const bob = toBase64(generateIdentityKeyPair().publicKey);
    const other = toBase64(generateIdentityKeyPair().publicKey);
    const fingerprint = identityFingerprint(Buffer.from(bob, 'base64'));
    const store = new TrustStore(dir(), 'alice');
    store.expect(SERVER, 'bob', fingerprint);
    expect(store.assess(SERVER, 'bob', other)).toBe('changed');
    expect(store.observe(SERVER, 'bob', other, 2, ['identity'])).toBe('changed');
    expect(store.assess(SERVER, 'bob', bob)).toBe('new');
    expect(store.observe(SERVER, 'bob', bob, 2, ['identity'])).toBe('verified');
    expect(store.get(SERVER, 'bob')?.expected).toBeUndefined();
    // An invite for someone already known with that key just verifies them.
    const known = new TrustStore(dir(), 'alice');
    known.observe(SERVER, 'bob', bob, 2, ['identity']);
    known.expect(SERVER, 'bob', fingerprint);
    expect(known.assess(SERVER, 'bob', bob)).toBe('verified');
  });

  it('server floors rise with the welcome; accepting a server without ratchet lowers its names', () => {
    const store = new TrustStore(dir(), 'alice');
    expect(store.observeServer(SERVER, ['ratchet', 'rooms'], ['ratchet'])).toEqual([]);
    store.observe(SERVER, 'bob', 'K1', 2, ['identity', 'ratchet']);
    expect(store.observeServer(SERVER, ['rooms'], ['ratchet'])).toEqual(['ratchet']);
    expect(store.acceptServerWithoutRatchet(SERVER)).toBe(1);
    expect(store.get(SERVER, 'bob')?.floor?.features).toEqual(['identity']);
    expect(store.observeServer(SERVER, ['rooms'], ['ratchet'])).toEqual([]);
  });

  it('a certificate rotation carries names and floors to the new pin', () => {
    const store = new TrustStore(dir(), 'alice');
    store.observe(SERVER, 'bob', 'K1', 2, ['identity', 'ratchet']);
    store.observeServer(SERVER, ['ratchet'], ['ratchet']);
    expect(store.carryOver(SERVER, 'sha256:bb')).toBe(1);
    expect(store.assess('sha256:bb', 'bob', 'K2')).toBe('changed');
    expect(store.serverFloor('sha256:bb')).toEqual(['ratchet']);
  });

  it('a directory snapshot is written once (batch)', () => {
    const home = dir();
    const store = new TrustStore(home, 'alice');
    store.batch(() => {
      for (let i = 0; i < 50; i++) store.observe(SERVER, `u${i}`, `K${i}`, 2, ['identity']);
      expect(() => readFileSync(store.path)).toThrow();
    });
    expect(Object.keys(JSON.parse(readFileSync(store.path, 'utf8')).servers[SERVER])).toHaveLength(
      50,
    );
  });

  it('loads a version 1 file (as the previous version wrote it), upgraded, the original kept', () => {
    const home = dir();
    mkdirSync(join(home, 'known-peers'));
    const path = join(home, 'known-peers', 'alice.json');
    const v1 = {
      format: 'securechat-known-peers',
      version: 1,
      servers: {
        [SERVER]: {
          bob: { name: 'bob', identityKey: 'K1', firstSeen: 1, verified: true, verifiedAt: 2 },
          junk: { name: 'junk' },
        },
      },
    };
    writeFileSync(path, JSON.stringify(v1));
    const store = new TrustStore(home, 'alice');
    expect(store.get(SERVER, 'bob')).toEqual({
      name: 'bob',
      identityKey: 'K1',
      firstSeen: 1,
      verified: true,
      verifiedAt: 2,
      floor: { v: 2, features: ['identity'] },
    });
    expect(store.get(SERVER, 'junk')).toBeUndefined();
    expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(2);
    expect(JSON.parse(readFileSync(`${path}.v1`, 'utf8'))).toEqual(v1);
    expect(store.assess(SERVER, 'bob', 'K1')).toBe('verified');
  });

  it('refuses a file that is not a known-peers file, naming it', () => {
    const home = dir();
    mkdirSync(join(home, 'known-peers'));
    writeFileSync(
      join(home, 'known-peers', 'alice.json'),
      '{"format":"x","version":2,"servers":{}}',
    );
    expect(() => new TrustStore(home, 'alice')).toThrow(/not a securechat known-peers file/);
  });
});
