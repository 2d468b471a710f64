import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../src/client/events.js';
import { SqliteStore } from '../../src/server/store/index.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

const incoming = (from: string, text: string) => (e: ClientEvent) =>
  e.kind === 'message' && e.direction === 'in' && e.from === from && e.text === text;

describe('PQXDH over real TLS: offline first contact through the mailbox, restarts', () => {
  let t: TestServer | undefined;
  const chats: TestChat[] = [];
  afterEach(async () => {
    for (const chat of chats.splice(0)) await chat.close();
    await t?.close();
  });

  it('first messages stored for an offline peer open after its restart, marked [e2ee:pq]; one one-time KEM prekey is used', async () => {
    const store = new SqliteStore(':memory:');
    t = await startTestServer({}, { store });
    const { port } = t;
    const pin = t.server.pin;
    // bob publishes his prekeys (50 one-time KEM prekeys and a last resort), then goes offline.
    let bob = await startChat('bob', port, pin);
    const home = bob.home;
    const kemCount = () =>
      (
        store.db.prepare("SELECT count(*) AS n FROM kem_prekey WHERE name_key = 'bob'").get() as {
          n: number;
        }
      ).n;
    expect(await until(() => kemCount() === 50, 10_000)).toBe(true);
    await bob.close();

    // alice has never met bob: first contact, from his bundle, while he is away.
    const alice = await startChat('alice', port, pin);
    chats.push(alice);
    for (const text of ['first, while you were away', 'second, while you were away']) {
      expect(alice.client.sendDirect('bob', text).ok).toBe(true);
      await alice.waitFor((e) => e.kind === 'delivery' && e.status === 'stored');
    }
    expect(kemCount()).toBe(49);

    // bob restarts (same home, a new process state) and reads his mailbox.
    bob = await startChat('bob', port, pin, home);
    chats.push(bob);
    const first = await bob.waitFor(incoming('alice', 'first, while you were away'));
    const second = await bob.waitFor(incoming('alice', 'second, while you were away'));
    expect(first).toMatchObject({ protection: 'e2ee-pq' });
    expect(second).toMatchObject({ protection: 'e2ee-pq' });
    bob.client.sendDirect('alice', 'back now');
    expect(await alice.waitFor(incoming('bob', 'back now'))).toMatchObject({
      protection: 'e2ee-pq',
    });
    expect(bob.events.some((e) => e.kind === 'undecryptable')).toBe(false);
  });
});
