import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { barrier, RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The relay fast path (issue 16) over real TLS: canonical relays (spliced) and every other
// relay (full parser) mixed in one write keep their order, acks and refusals, and the
// delivered lines are byte for byte what the full parser's encoder writes.

const NONCE = Buffer.alloc(12, 7).toString('base64');
const CIPHER = Buffer.alloc(40, 9).toString('base64');
const canonical = (to: string, id: string) =>
  `{"type":"relay","to":"${to}","alg":"X25519+AESGCM","nonce":"${NONCE}","cipher":"${CIPHER}","id":"${id}"}\n`;
const delivery = (from: string, to: string, id: string) =>
  `{"type":"relay","from":"${from}","to":"${to}","alg":"X25519+AESGCM","nonce":"${NONCE}","cipher":"${CIPHER}","id":"${id}"}\n`;

describe('relay fast path over TLS', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const hello = async (user: string) => {
    const client = await RawClient.hello({ port: t.port, certPem: t.certPem, user });
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    t = await startTestServer();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await t.close();
  });

  it('keeps order, acks and refusals across fast and slow relays in one write', async () => {
    const alice = await hello('alice');
    const bob = await hello('bob');
    await barrier(alice, bob);
    bob.received.length = 0;
    alice.send(
      canonical('bob', 'm1') +
        // reordered keys: the full parser
        `{"type":"relay","alg":"X25519+AESGCM","to":"bob","nonce":"${NONCE}","cipher":"${CIPHER}","id":"m2"}\n` +
        // canonical shape, bad Base64: the full parser refuses it with its own code
        canonical('bob', 'm3').replace(CIPHER, `${CIPHER.slice(0, -4)}!!!!`) +
        canonical('bob', 'm4') +
        // client-supplied from (as seed clients send): the full parser, from overwritten
        canonical('bob', 'm5').replace('"to"', '"from":"alice","to"') +
        canonical('nobody', 'm6'),
    );
    expect(await alice.next((f) => f.id === 'm1' || f.ref === 'm1')).toEqual({
      type: 'ack',
      id: 'm1',
    });
    expect(await alice.next((f) => f.id === 'm2' || f.ref === 'm2')).toEqual({
      type: 'ack',
      id: 'm2',
    });
    expect(await alice.next((f) => f.ref === 'm3')).toMatchObject({ code: 'E_BAD_FIELD' });
    expect(await alice.next((f) => f.id === 'm4')).toEqual({ type: 'ack', id: 'm4' });
    expect(await alice.next((f) => f.id === 'm5')).toEqual({ type: 'ack', id: 'm5' });
    expect(await alice.next((f) => f.ref === 'm6')).toMatchObject({ code: 'E_PEER_OFFLINE' });
    await bob.sync();
    // (a v1 `users` push paced after the two connects may land anywhere in between)
    const lines = Buffer.concat(bob.received)
      .toString('latin1')
      .split('\n')
      .filter((line) => !line.startsWith('{"type":"users"'))
      .join('\n');
    expect(lines).toBe(
      `${delivery('alice', 'bob', 'm1')}${delivery('alice', 'bob', 'm2')}${delivery('alice', 'bob', 'm4')}${delivery('alice', 'bob', 'm5')}{"type":"pong"}\n`,
    );
    expect(alice.frames.filter((f) => f.type === 'ack' || f.type === 'error')).toEqual([]);
  });

  it('does not take a relay before the hello (refused and disconnected as before)', async () => {
    const raw = await RawClient.connect({ port: t.port, certPem: t.certPem });
    clients.push(raw);
    raw.send(canonical('bob', 'm1'));
    expect(await raw.error('E_HELLO_REQUIRED')).toMatchObject({ type: 'error' });
    await raw.closed;
  });
});
