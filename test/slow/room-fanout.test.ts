import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, v2Hello } from '../helpers/v2-hello.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** The big fan-out (slow suite): one room message to 199 other members over real TLS. */
describe('room fan-out at size', () => {
  let t: TestServer | undefined;
  const clients: RawClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await t?.close();
  });

  it('fans one message out to 200 members', { timeout: 120_000 }, async () => {
    t = await startTestServer({ maxConnectionsPerIp: 1000 });
    const server = t;
    for (let i = 0; i < 200; i++) {
      const client = await RawClient.connect({ port: server.port, certPem: server.certPem });
      clients.push(client);
      client.send(v2Hello(client.socket, `m${i}`, newIdentity(), ['ack', 'rooms']));
      await client.next((f) => f.type === 'welcome', 20_000);
      client.send({ type: 'join', room: '#big' });
    }
    await Promise.all(clients.map((m) => m.next((f) => f.type === 'joined', 20_000)));
    clients[0]!.send({
      type: 'roommsg',
      room: '#big',
      alg: 'SK1+AESGCM',
      header: b64('hdr-fan'),
      nonce: Buffer.alloc(12, 3).toString('base64'),
      cipher: b64('ciphertext-fan-0123456789'),
      sig: Buffer.alloc(64, 5).toString('base64'),
      id: 'fan',
    });
    const received = await Promise.all(
      clients.slice(1).map((m) => m.next((f) => f.type === 'roommsg' && f.id === 'fan', 20_000)),
    );
    expect(received).toHaveLength(199);
    expect(received.every((f) => f.from === 'm0')).toBe(true);
    expect(server.server.stats.roomDeliveries).toBe(199);
    await clients[0]!.next((f) => f.type === 'ack' && f.id === 'fan');
    await clients[0]!.sync(); // and the sender did not get its own message back
    expect(clients[0]!.frames.filter((f) => f.type === 'roommsg')).toHaveLength(0);
  });
});
