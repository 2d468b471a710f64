import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identityFingerprint } from '../../src/protocol/index.js';
import { barrier, RawClient, TestClock } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, type TestIdentity, v2Hello } from '../helpers/v2-hello.js';

const CAPS = ['presence', 'ack', 'ping', 'rooms'];
const b64 = (text: string) => Buffer.from(text).toString('base64');
const roommsg = (room: string, id: string) => ({
  type: 'roommsg',
  room,
  alg: 'SK1+AESGCM',
  header: b64(`hdr-${id}`),
  nonce: Buffer.alloc(12, 3).toString('base64'),
  cipher: b64(`ciphertext-${id}-0123456789`),
  sig: Buffer.alloc(64, 5).toString('base64'),
  id,
});

describe('rooms over real TLS', () => {
  let t: TestServer;
  let dataPath: string;
  const clients: RawClient[] = [];
  const admin = newIdentity();
  let clock: TestClock;
  const start = (overrides = {}) =>
    startTestServer(
      {
        dataPath,
        lobby: '#lobby',
        admins: [identityFingerprint(admin.identity.publicKey)],
        roomPasswordAttempts: 3,
        roomLockoutMs: 400,
        roomPasswordWindowMs: 60_000,
        ...overrides,
      },
      { now: clock.now },
    );
  const hello = async (user: string, who: TestIdentity, caps = CAPS) => {
    const client = await RawClient.connect({ port: t.port, certPem: t.certPem });
    clients.push(client);
    client.send(v2Hello(client.socket, user, who, caps));
    await client.next((f) => f.type === 'welcome');
    return client;
  };
  const joinRoom = async (client: RawClient, room: string, password?: string) => {
    const id = `j${room.slice(1)}`;
    client.send({ type: 'join', room, ...(password ? { password } : {}), id });
    return client.next(
      (f) => (f.type === 'joined' && f.room === room) || (f.type === 'error' && f.ref === id),
      8000,
    );
  };

  beforeEach(async () => {
    dataPath = join(mkdtempSync(join(tmpdir(), 'securechat-rooms-')), 'state.db');
    clock = new TestClock(Date.now());
    t = await start();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await t.close();
  });

  it('puts v2 clients in the lobby and fans a room message out to the other members only', async () => {
    const alice = await hello('alice', newIdentity());
    const bob = await hello('bob', newIdentity());
    await alice.next((f) => f.type === 'joined' && f.room === '#lobby');
    await bob.next((f) => f.type === 'joined' && f.room === '#lobby');
    const legacy = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'seed' });
    clients.push(legacy);
    alice.send(roommsg('#lobby', 'm1'));
    const got = await bob.next((f) => f.type === 'roommsg');
    expect(got).toMatchObject({ room: '#lobby', from: 'alice', id: 'm1', header: b64('hdr-m1') });
    await alice.next((f) => f.type === 'ack' && f.id === 'm1');
    await barrier(alice, bob, legacy);
    expect(alice.frames.filter((f) => f.type === 'roommsg')).toHaveLength(0);
    expect(legacy.frames.filter((f) => f.type === 'roommsg' || f.type === 'room')).toHaveLength(0);
    legacy.send({ type: 'join', room: '#lobby' });
    await legacy.error('E_NEEDS_IDENTITY');
  });

  it('enforces membership: a non-member can neither send to nor receive from a room', async () => {
    const alice = await hello('alice', newIdentity(), ['presence']);
    const carol = await hello('carol', newIdentity(), ['presence']);
    const mallory = await hello('mallory', newIdentity(), ['presence']);
    expect((await joinRoom(alice, '#secret')).type).toBe('joined');
    await joinRoom(carol, '#secret');
    mallory.send(roommsg('#secret', 'x1'));
    expect((await mallory.error('E_NOT_MEMBER')).ref).toBe('x1');
    alice.send(roommsg('#secret', 'a1'));
    await carol.next((f) => f.type === 'roommsg' && f.id === 'a1');
    await barrier(alice, mallory);
    expect(mallory.frames.filter((f) => f.type === 'roommsg')).toHaveLength(0);
    carol.send({ type: 'part', room: '#secret' });
    await alice.next((f) => f.type === 'room' && f.event === 'part' && f.user === 'carol');
    alice.send(roommsg('#secret', 'a2'));
    await alice.next((f) => f.type === 'ack' && f.id === 'a2');
    await barrier(alice, carol);
    expect(carol.frames.filter((f) => f.type === 'roommsg' && f.id === 'a2')).toHaveLength(0);
  });

  it('makes the first member owner; owners op and kick; ops cannot touch the owner', async () => {
    const owner = await hello('owner', newIdentity(), ['presence']);
    const op = await hello('op', newIdentity(), ['presence']);
    const member = await hello('member', newIdentity(), ['presence']);
    const joined = await joinRoom(owner, '#club');
    expect((joined.members as Record<string, { role?: string }>).owner?.role).toBe('owner');
    await joinRoom(op, '#club');
    await joinRoom(member, '#club');
    member.send({ type: 'moderate', room: '#club', action: 'kick', user: 'op', id: 'k0' });
    expect((await member.error('E_FORBIDDEN')).ref).toBe('k0');
    owner.send({ type: 'moderate', room: '#club', action: 'op', user: 'op', id: 'o1' });
    await op.next((f) => f.type === 'room' && f.event === 'op' && f.user === 'op');
    op.send({ type: 'moderate', room: '#club', action: 'kick', user: 'owner', id: 'k1' });
    await op.error('E_FORBIDDEN');
    op.send({
      type: 'moderate',
      room: '#club',
      action: 'kick',
      user: 'member',
      reason: 'bye',
      id: 'k2',
    });
    expect(await member.next((f) => f.type === 'room' && f.event === 'kick')).toMatchObject({
      user: 'member',
      by: 'op',
      reason: 'bye',
    });
    // Once, not twice (issue 15: the removed member got the broadcast and its own copy).
    await barrier(member);
    expect(member.frames.filter((f) => f.type === 'room' && f.event === 'kick')).toHaveLength(0);
    member.send(roommsg('#club', 'after-kick'));
    await member.error('E_NOT_MEMBER');
    op.send({ type: 'topic', room: '#club', text: 'welcome ✓' });
    expect(await owner.next((f) => f.type === 'room' && f.event === 'topic')).toMatchObject({
      text: 'welcome ✓',
      by: 'op',
    });
  });

  it('tells a member who leaves exactly once', async () => {
    const owner = await hello('owner', newIdentity(), ['presence']);
    const leaver = await hello('leaver', newIdentity(), ['presence']);
    await joinRoom(owner, '#once');
    await joinRoom(leaver, '#once');
    leaver.send({ type: 'part', room: '#once' });
    await owner.next((f) => f.type === 'room' && f.event === 'part' && f.user === 'leaver');
    await barrier(leaver, owner);
    const parts = (c: RawClient) =>
      c.frames.filter((f) => f.type === 'room' && f.event === 'part' && f.user === 'leaver');
    expect(parts(leaver)).toHaveLength(1);
    expect(parts(owner)).toHaveLength(0);
  });

  it('bans by identity key: a new name or connection does not help; bans expire', async () => {
    const ownerId = newIdentity();
    const troll = newIdentity();
    const owner = await hello('owner', ownerId, ['presence']);
    const first = await hello('troll', troll, ['presence']);
    await joinRoom(owner, '#quiet');
    await joinRoom(first, '#quiet');
    owner.send({
      type: 'moderate',
      room: '#quiet',
      action: 'ban',
      user: 'troll',
      duration: 1,
      id: 'b1',
    });
    await first.next((f) => f.type === 'room' && f.event === 'ban');
    first.close();
    const renamed = await hello('troll2', troll, ['presence']);
    expect((await joinRoom(renamed, '#quiet')).code).toBe('E_BANNED');
    clock.advance(999);
    expect((await joinRoom(renamed, '#quiet')).code).toBe('E_BANNED'); // not yet
    clock.advance(2);
    expect((await joinRoom(renamed, '#quiet')).type).toBe('joined');
    owner.send({ type: 'moderate', room: '#quiet', action: 'ban', user: 'troll2', id: 'b2' }); // permanent
    await renamed.next((f) => f.type === 'room' && f.event === 'ban');
    owner.send({ type: 'moderate', room: '#quiet', action: 'unban', user: 'troll2', id: 'u1' });
    await owner.next((f) => f.type === 'ack' && f.id === 'u1');
    expect((await joinRoom(renamed, '#quiet')).type).toBe('joined');
  });

  it('passwords: correct joins, wrong refused, lockout after the attempts, lockout expires', async () => {
    const owner = await hello('owner', newIdentity(), ['presence']);
    await joinRoom(owner, '#vault');
    owner.send({
      type: 'moderate',
      room: '#vault',
      action: 'password',
      password: 's3cret',
      id: 'p',
    });
    await owner.next((f) => f.type === 'room' && f.event === 'password' && f.set === true, 8000);
    const guest = await hello('guest', newIdentity(), ['presence']);
    expect((await joinRoom(guest, '#vault')).code).toBe('E_BAD_PASSWORD');
    expect((await joinRoom(guest, '#vault', 'nope')).code).toBe('E_BAD_PASSWORD');
    expect((await joinRoom(guest, '#vault', 'nope')).code).toBe('E_BAD_PASSWORD');
    expect((await joinRoom(guest, '#vault', 's3cret')).code).toBe('E_LOCKED_OUT'); // even the right one
    expect(t.logs.events('room.lockout')).toHaveLength(1);
    clock.advance(399);
    expect((await joinRoom(guest, '#vault', 's3cret')).code).toBe('E_LOCKED_OUT'); // not yet
    clock.advance(2);
    expect((await joinRoom(guest, '#vault', 's3cret')).type).toBe('joined');
    guest.send({ type: 'who', room: '#vault', id: 'w' });
    const who = await guest.next((f) => f.type === 'who');
    expect(Object.keys(who.members as object).sort()).toEqual(['guest', 'owner']);
  });

  it('keeps rooms, roles, bans and password hashes across a restart', async () => {
    const ownerId = newIdentity();
    const badId = newIdentity();
    const owner = await hello('owner', ownerId, ['presence']);
    const bad = await hello('bad', badId, ['presence']);
    await joinRoom(owner, '#persist');
    owner.send({ type: 'topic', room: '#persist', text: 'kept' });
    owner.send({ type: 'moderate', room: '#persist', action: 'password', password: 'pw', id: 'p' });
    await owner.next((f) => f.type === 'room' && f.event === 'password', 8000);
    owner.send({ type: 'moderate', room: '#persist', action: 'ban', user: 'bad', id: 'b' });
    await owner.next((f) => f.type === 'ack' && f.id === 'b');
    for (const client of clients.splice(0)) client.close();
    await t.close();
    t = await start();
    const owner2 = await hello('owner', ownerId, ['presence']);
    const joined = await joinRoom(owner2, '#persist'); // the owner needs no password
    expect(joined).toMatchObject({ type: 'joined', topic: 'kept' });
    expect((joined.members as Record<string, { role?: string }>).owner?.role).toBe('owner');
    const bad2 = await hello('bad', badId, ['presence']);
    expect((await joinRoom(bad2, '#persist', 'pw')).code).toBe('E_BANNED');
    const other = await hello('other', newIdentity(), ['presence']);
    expect((await joinRoom(other, '#persist', 'wrong')).code).toBe('E_BAD_PASSWORD');
    expect((await joinRoom(other, '#persist', 'pw')).type).toBe('joined');
    other.send({ type: 'rooms', id: 'r' });
    const rooms = await other.next((f) => f.type === 'rooms');
    expect(rooms.rooms).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ room: '#persist', members: 2, password: true, topic: 'kept' }),
      ]),
    );
    void bad;
  });

  it('gives administrators the MOTD and power over every room', async () => {
    const boss = await hello('boss', admin, ['presence']);
    const owner = await hello('owner', newIdentity(), ['presence']);
    const user = await hello('user', newIdentity(), ['presence']);
    await joinRoom(owner, '#theirs');
    await joinRoom(user, '#theirs');
    user.send({ type: 'motd', text: 'hijack', id: 'm0' });
    await user.error('E_FORBIDDEN');
    boss.send({ type: 'motd', text: 'be nice' });
    await boss.next((f) => f.type === 'motd' && f.text === 'be nice');
    boss.send({ type: 'moderate', room: '#theirs', action: 'kick', user: 'owner', id: 'k' });
    await owner.next((f) => f.type === 'room' && f.event === 'kick' && f.user === 'owner');
    const late = await hello('late', newIdentity(), CAPS);
    await late.next((f) => f.type === 'motd' && f.text === 'be nice');
  });
});
