import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatInvite,
  type Invite,
  looksLikeInvite,
  normalizeFingerprint,
  parseInvite,
  parsePeerOption,
} from '../../../src/client/net/invite.js';
import { KnownServers } from '../../../src/client/net/known-servers.js';
import { formatPin } from '../../../src/client/net/pinning.js';
import { resolveServerPin } from '../../../src/client/net/server-trust.js';
import { acceptRotation } from '../../../src/client/trust/server-rotation.js';
import { TrustStore } from '../../../src/client/trust/trust-store.js';

const PIN = `sha256:${'ab'.repeat(32)}`;
const OTHER = `sha256:${'cd'.repeat(32)}`;
const FP = '0123abcd-4567ef01-89abcdef-01234567';
const dir = () => mkdtempSync(join(tmpdir(), 'securechat-invite-'));

describe('invites', () => {
  const invite: Invite = {
    host: '4.tcp.eu.ngrok.io',
    port: 17342,
    pin: PIN,
    name: 'bob',
    fingerprint: FP,
  };

  it('round-trip through one copyable line, IPv6 hosts in brackets', () => {
    const line = formatInvite(invite);
    expect(line).toBe(
      `securechat://bob@4.tcp.eu.ngrok.io:17342/?pin=${'ab'.repeat(32)}&id=0123abcd4567ef0189abcdef01234567`,
    );
    expect(looksLikeInvite(line)).toBe(true);
    expect(parseInvite(line)).toEqual(invite);
    const v6 = { ...invite, host: '::1' };
    expect(parseInvite(formatInvite(v6))).toEqual(v6);
  });

  it.each([
    [
      'another scheme',
      `https://bob@h:1/?pin=${'ab'.repeat(32)}&id=${'0'.repeat(32)}`,
      /securechat/,
    ],
    ['no name', `securechat://h:1/?pin=${'ab'.repeat(32)}&id=${'0'.repeat(32)}`, /user/],
    ['a bad name', `securechat://b%1Bob@h:1/?pin=${'ab'.repeat(32)}&id=${'0'.repeat(32)}`, /user/],
    ['no port', `securechat://bob@h/?pin=${'ab'.repeat(32)}&id=${'0'.repeat(32)}`, /port/],
    ['a short pin', `securechat://bob@h:1/?pin=abcd&id=${'0'.repeat(32)}`, /pin/],
    ['no fingerprint', `securechat://bob@h:1/?pin=${'ab'.repeat(32)}`, /fingerprint/],
    ['garbage', 'securechat://%%%', /securechat|user/],
  ])('refuses %s with a clear message', (_label, text, message) => {
    expect(() => parseInvite(text)).toThrow(message);
  });

  it('--peer takes the fingerprint as /fp or `keys` print it, in any case, with or without dashes', () => {
    expect(parsePeerOption(`alice=${FP.toUpperCase()}`)).toEqual({
      name: 'alice',
      fingerprint: FP,
    });
    expect(parsePeerOption(`alice=${FP.replaceAll('-', '')}`).fingerprint).toBe(FP);
    expect(() => parsePeerOption('alice')).toThrow(/--peer/);
    expect(() => parsePeerOption(`al ice=${FP}`)).toThrow(/--peer/);
    expect(normalizeFingerprint('xyz')).toBeUndefined();
  });
});

describe('server trust: only --cert, --pin, an invite or known-servers.json', () => {
  const noProbe = () => Promise.reject(new Error('probed'));

  it('never reads a certificate from the working directory', async () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'server.crt'), 'not used');
    const known = new KnownServers(dir());
    known.remember('h:1', PIN);
    const pin = await resolveServerPin({ host: 'h', port: 1, knownServers: known, probe: noProbe });
    expect(formatPin(pin.sha256)).toBe(PIN);
    expect(pin.source).toMatch(/known-servers/);
  });

  it('an explicit pin that differs from the remembered one is used, with a warning naming both', async () => {
    const known = new KnownServers(dir());
    known.remember('h:1', PIN);
    const warnings: string[] = [];
    const pin = await resolveServerPin({
      host: 'h',
      port: 1,
      pin: OTHER,
      knownServers: known,
      warn: (t) => warnings.push(t),
    });
    expect(formatPin(pin.sha256)).toBe(OTHER);
    expect(warnings.join()).toContain(PIN);
    expect(warnings.join()).toContain('securechat server-cert h 1');
    expect(known.get('h:1')).toBe(PIN);
  });

  it("an invite's pin is remembered for an unknown address", async () => {
    const home = dir();
    await resolveServerPin({
      host: 'h',
      port: 1,
      invitePin: PIN,
      knownServers: new KnownServers(home),
    });
    expect(new KnownServers(home).get('h:1')).toBe(PIN);
  });

  it('a rotation is accepted only for the pin the server presents, and carries known peers', async () => {
    const home = dir();
    new KnownServers(home).remember('h:1', PIN);
    new TrustStore(home, 'alice').observe(PIN, 'bob', 'K1', 2, ['identity', 'ratchet']);
    const presented = Buffer.from('a new certificate');
    const newPin = formatPin(createHash('sha256').update(presented).digest());
    const probe = async () => presented;
    const wrong = await acceptRotation({
      configDir: home,
      host: 'h',
      port: 1,
      expected: OTHER,
      probe,
    });
    expect(wrong).toMatchObject({ outcome: 'refused', previous: PIN, presented: newPin });
    const unasked = await acceptRotation({ configDir: home, host: 'h', port: 1, probe });
    expect(unasked.outcome).toBe('refused');
    const ok = await acceptRotation({
      configDir: home,
      host: 'h',
      port: 1,
      expected: newPin,
      probe,
    });
    expect(ok).toEqual({
      outcome: 'accepted',
      previous: PIN,
      pin: newPin,
      carried: [{ user: 'alice', peers: 1 }],
    });
    expect(new KnownServers(home).get('h:1')).toBe(newPin);
    expect(new TrustStore(home, 'alice').assess(newPin, 'bob', 'K2')).toBe('changed');
    expect(await acceptRotation({ configDir: home, host: 'h', port: 1, probe })).toEqual({
      outcome: 'unchanged',
      pin: newPin,
    });
  });
});
