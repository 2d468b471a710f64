import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../src/client/events.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const incoming = (from: string, text: string) => (e: ClientEvent) =>
  e.kind === 'message' && e.direction === 'in' && e.from === from && e.text === text;

describe('direct messages between in-process clients over TLS', () => {
  let t: TestServer;
  const chats: TestChat[] = [];
  const chat = async (name: string) => {
    const c = await startChat(name, t.port, t.server.pin);
    chats.push(c);
    return c;
  };

  beforeEach(async () => {
    t = await startTestServer({ lobby: undefined });
  });
  afterEach(async () => {
    for (const c of chats.splice(0)) await c.close();
    await t.close();
  });

  it('a note to yourself arrives once, readable, with no warning (case-insensitive name too)', async () => {
    const alice = await chat('alice');
    expect(alice.client.sendDirect('alice', 'remember the milk').ok).toBe(true);
    const note = await alice.waitFor(incoming('alice', 'remember the milk'));
    expect(note).toMatchObject({ protection: 'e2ee-v1' });
    expect(alice.client.sendDirect('ALICE', 'and eggs').ok).toBe(true);
    await alice.waitFor(incoming('alice', 'and eggs'));
    // a barrier: notes are handled in order, so once this one is shown the others are done
    expect(alice.client.sendDirect('alice', 'barrier').ok).toBe(true);
    await alice.waitFor(incoming('alice', 'barrier'));
    const problems = alice.events.filter((e) => e.kind === 'warning' || e.kind === 'error');
    expect(problems).toEqual([]);
    expect(alice.events.filter(incoming('alice', 'remember the milk'))).toHaveLength(1);
    // The server relayed ciphertext only.
    expect(t.logs.text).not.toContain('milk');
  });

  it('messages to a friend still use the ratchet after notes to self', async () => {
    const alice = await chat('alice');
    const bob = await chat('bob');
    alice.client.sendDirect('alice', 'note');
    await alice.waitFor(incoming('alice', 'note'));
    await alice.waitFor((e) => e.kind === 'presence' && e.user === 'bob' && e.event === 'join');
    alice.client.sendDirect('bob', 'hi bob');
    expect(await bob.waitFor(incoming('alice', 'hi bob'))).toMatchObject({
      protection: 'e2ee-pq',
    });
  });
});
