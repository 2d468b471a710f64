import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../src/client/events.js';
import {
  fromBase64,
  openRoomMessage,
  type ParsedServerFrame,
  type RoomAlg,
  type RoomServerFrame,
  receiveSenderKey,
} from '../../src/protocol/index.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type RoomMessage = Extract<RoomServerFrame, { type: 'roommsg' }>;
const roomText = (room: string, from: string, text: string) => (e: ClientEvent) =>
  e.kind === 'message' &&
  e.direction === 'in' &&
  e.to === room &&
  e.from === from &&
  e.text === text;
const isRoomMsg = (f: ParsedServerFrame): f is RoomMessage => f.type === 'roommsg';

/** Records the sender keys a client receives (to replay them against later ciphertexts). */
function recordKeys(chat: TestChat) {
  const keys: Array<{
    from: string;
    keyId: number;
    iteration: number;
    chainKey: string;
    signingKey: string;
  }> = [];
  const rooms = chat.client.rooms;
  const original = rooms.onSenderKey.bind(rooms);
  rooms.onSenderKey = (from, identity, content, status) => {
    keys.push({
      from,
      keyId: content.keyId,
      iteration: content.iteration,
      chainKey: content.chainKey,
      signingKey: content.signingKey,
    });
    original(from, identity, content, status);
  };
  return keys;
}

function tryOpen(keys: ReturnType<typeof recordKeys>, message: RoomMessage): string | undefined {
  for (const k of keys.filter((key) => key.from === message.from)) {
    try {
      const received = receiveSenderKey({
        keyId: k.keyId,
        iteration: k.iteration,
        chainKey: fromBase64(k.chainKey, 'chainKey', 32),
        signingPublicKey: fromBase64(k.signingKey, 'signingKey', 32),
      });
      const plain = openRoomMessage(received, message.room, message.from, {
        alg: message.alg as RoomAlg,
        header: fromBase64(message.header, 'header'),
        nonce: fromBase64(message.nonce, 'nonce', 12),
        cipher: fromBase64(message.cipher, 'cipher'),
        signature: fromBase64(message.sig, 'sig', 64),
      });
      return new TextDecoder().decode(plain);
    } catch {
      // this key does not open it
    }
  }
  return undefined;
}

describe('room end-to-end encryption with real clients over TLS', () => {
  let t: TestServer;
  const chats: TestChat[] = [];
  const chat = async (name: string) => {
    const c = await startChat(name, t.port, t.server.pin);
    chats.push(c);
    return c;
  };

  beforeEach(async () => {
    t = await startTestServer({ lobby: '#lobby' });
  });
  afterEach(async () => {
    for (const c of chats.splice(0)) await c.close();
    await t.close();
  });

  it('broadcasts in the lobby; the server only ever sees ciphertext', async () => {
    const alice = await chat('alice');
    const bob = await chat('bob');
    const carol = await chat('carol');
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'join' && e.user === 'carol');
    expect(alice.client.rooms.send('#lobby', 'hola a todos', false).ok).toBe(true);
    await bob.waitFor(roomText('#lobby', 'alice', 'hola a todos'));
    const got = await carol.waitFor(roomText('#lobby', 'alice', 'hola a todos'));
    expect(got).toMatchObject({ protection: 'e2ee-room' });
    expect(t.logs.text).not.toContain('hola a todos');
    bob.client.rooms.send('#lobby', 'reply', true);
    expect(await alice.waitFor(roomText('#lobby', 'bob', 'reply'))).toMatchObject({ action: true });
  });

  it('after a reconnect, rooms are rejoined and announced once each, and messages flow again', async () => {
    const alice = await startChat('alice', t.port, t.server.pin, undefined, {
      reconnect: { enabled: true, initialDelayMs: 20, maxDelayMs: 50 },
    });
    chats.push(alice);
    const bob = await chat('bob');
    alice.client.rooms.join('#club');
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'joined' && e.room === '#club');
    bob.client.rooms.join('#club');
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'join' && e.user === 'bob');
    const joinedBefore = alice.events.length;
    alice.client.reconnect();
    await alice.waitFor((e) => e.kind === 'connection' && e.status.state === 'reconnecting', 5000);
    const after = () => alice.events.slice(joinedBefore);
    await alice.waitFor(
      (e) =>
        alice.events.indexOf(e) >= joinedBefore &&
        e.kind === 'room' &&
        e.room === '#club' &&
        e.event === 'joined',
    );
    // Let the duplicate answers (server's lobby join + our rejoin) arrive.
    await alice.sync();
    const joined = (room: string) =>
      after().filter((e) => e.kind === 'room' && e.event === 'joined' && e.room === room);
    expect(joined('#lobby')).toHaveLength(1);
    expect(joined('#club')).toHaveLength(1);
    expect(alice.client.rooms.send('#club', 'back again', false).ok).toBe(true);
    await bob.waitFor(roomText('#club', 'alice', 'back again'));
    // Asking explicitly while already in is still answered.
    alice.client.rooms.join('#club');
    await alice.sync();
    expect(joined('#club')).toHaveLength(2);
  });

  it('a departed member, fed every later ciphertext, decrypts none of it', async () => {
    const alice = await chat('alice');
    const bob = await chat('bob');
    const carol = await chat('carol');
    const carolKeys = recordKeys(carol);
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'join' && e.user === 'carol');
    alice.client.rooms.send('#lobby', 'while carol is here', false);
    await carol.waitFor(roomText('#lobby', 'alice', 'while carol is here'));
    const seenByCarol = carol.frames.filter(isRoomMsg);
    expect(tryOpen(carolKeys, seenByCarol[0]!)).toBe('{"t":"text","text":"while carol is here"}');

    carol.client.rooms.part('#lobby');
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'part' && e.user === 'carol');
    for (let i = 0; i < 3; i++) alice.client.rooms.send('#lobby', `after carol left ${i}`, false);
    bob.client.rooms.send('#lobby', 'bob after carol left', false);
    await bob.waitFor(roomText('#lobby', 'alice', 'after carol left 2'));
    await alice.waitFor(roomText('#lobby', 'bob', 'bob after carol left'));
    const later = bob.frames
      .filter(isRoomMsg)
      .filter((m) => m.from === 'alice')
      .slice(-3);
    later.push(...alice.frames.filter(isRoomMsg).filter((m) => m.from === 'bob'));
    expect(later).toHaveLength(4);
    for (const message of later) expect(tryOpen(carolKeys, message)).toBeUndefined();
  });

  it('a joiner cannot decrypt messages sent before it joined', async () => {
    const alice = await chat('alice');
    const bob = await chat('bob');
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'join' && e.user === 'bob');
    alice.client.rooms.send('#lobby', 'before dave', false);
    await bob.waitFor(roomText('#lobby', 'alice', 'before dave'));
    const early = bob.frames.filter(isRoomMsg).find((m) => m.from === 'alice')!;
    const dave = await chat('dave');
    const daveKeys = recordKeys(dave);
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'join' && e.user === 'dave');
    alice.client.rooms.send('#lobby', 'welcome dave', false);
    await dave.waitFor(roomText('#lobby', 'alice', 'welcome dave'));
    expect(daveKeys.length).toBeGreaterThan(0);
    expect(tryOpen(daveKeys, early)).toBeUndefined();
    expect(dave.events.some((e) => e.kind === 'message' && e.text === 'before dave')).toBe(false);
  });

  it('rejects a forged or replayed room message', async () => {
    const alice = await chat('alice');
    const bob = await chat('bob');
    const mallory = await chat('mallory');
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'join' && e.user === 'mallory');
    alice.client.rooms.send('#lobby', 'genuine', false);
    await bob.waitFor(roomText('#lobby', 'alice', 'genuine'));
    const genuine = bob.frames.filter(isRoomMsg).find((m) => m.from === 'alice')!;
    // replay: the same ciphertext delivered again is shown once
    bob.client.rooms.onFrame(genuine);
    // forgery: mallory (a member with her own keys) relabels a message as alice's
    mallory.client.rooms.send('#lobby', 'I am alice', false);
    await bob.waitFor(roomText('#lobby', 'mallory', 'I am alice'));
    const forged = bob.frames.filter(isRoomMsg).find((m) => m.from === 'mallory')!;
    bob.client.rooms.onFrame({ ...forged, from: 'alice' }); // handled synchronously
    expect(bob.events.filter((e) => e.kind === 'message' && e.text === 'genuine')).toHaveLength(1);
    expect(
      bob.events.some((e) => e.kind === 'message' && e.from === 'alice' && e.text === 'I am alice'),
    ).toBe(false);
  });
});
