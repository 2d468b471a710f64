import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../src/client/events.js';
import { SIGNED_PREKEY_ROTATION_MS } from '../../src/protocol/index.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const DAY = 24 * 3_600_000;
const incoming = (from: string, text: string) => (e: ClientEvent) =>
  e.kind === 'message' && e.direction === 'in' && e.from === from && e.text === text;

describe('signed prekey rotation over real TLS, through the mailbox', () => {
  let t: TestServer | undefined;
  const chats: TestChat[] = [];
  afterEach(async () => {
    for (const chat of chats.splice(0)) await chat.close();
    await t?.close();
  });

  it('a first message stored for bob before his signed prekey rotated still opens after it', async () => {
    t = await startTestServer();
    const { port } = t;
    const pin = t.server.pin;
    const clock = { now: Date.now() };
    // bob publishes his signed prekey with his hello, then goes offline.
    let bob = await startChat('bob', port, pin, undefined, {}, { now: () => clock.now });
    const home = bob.home;
    const firstSpk = bob.client.ratchet!.state.prekeys.current;
    await bob.close();

    const alice = await startChat('alice', port, pin);
    chats.push(alice);
    const sent = alice.client.sendDirect('bob', 'written while you were away');
    expect(sent.ok).toBe(true);
    await alice.waitFor((e) => e.kind === 'delivery' && e.status === 'stored');

    // Eight days later bob comes back: his client rotates first, then reads his mailbox.
    clock.now += SIGNED_PREKEY_ROTATION_MS + DAY;
    bob = await startChat('bob', port, pin, home, {}, { now: () => clock.now });
    chats.push(bob);
    const prekeys = bob.client.ratchet!.state.prekeys;
    expect(prekeys.current.id).not.toBe(firstSpk.id);
    expect(prekeys.previous?.id).toBe(firstSpk.id);
    const got = await bob.waitFor(incoming('alice', 'written while you were away'));
    expect(got).toMatchObject({ protection: 'e2ee-pq' });

    // The server hands out the new one now (the hello carried it). carol's clock agrees with
    // bob's (an initiator refuses a signed prekey dated more than a day ahead of it).
    const carol = await startChat('carol', port, pin, undefined, {}, { now: () => clock.now });
    chats.push(carol);
    carol.client.sendDirect('bob', 'to the new key');
    await bob.waitFor(incoming('carol', 'to the new key'));
    expect(bob.events.some((e) => e.kind === 'undecryptable')).toBe(false);
  });
});
