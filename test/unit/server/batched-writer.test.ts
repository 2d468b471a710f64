import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BatchedWriter } from '../../../src/server/batched-writer.js';
import { until } from '../../helpers/until.js';

/** A loopback TCP pair: the server side (what BatchedWriter writes to) and the client. */
async function pair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const accepted = once(listener, 'connection');
  const client = connect(address.port, '127.0.0.1');
  const [server] = (await accepted) as [Socket];
  return {
    server,
    client,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

describe('BatchedWriter', () => {
  it('drops what is queued for a peer that already closed, without an EPIPE error', async () => {
    const { server, client, close } = await pair();
    try {
      const errors: Error[] = [];
      server.on('error', (error) => errors.push(error));
      server.resume();
      client.end(); // FIN: the server side ends its half too (no half-open sockets)
      await once(server, 'end');
      expect(await until(() => server.writableEnded)).toBe(true);
      const writer = new BatchedWriter(server);
      writer.write('{"type":"users"}\n'); // a presence push racing the close
      expect(await until(() => server.destroyed)).toBe(true);
      // Writing would have built an EPIPE error (with its stack) only to destroy the socket.
      expect(errors).toEqual([]);
    } finally {
      close();
    }
  });
});
