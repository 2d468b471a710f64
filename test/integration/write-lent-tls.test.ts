import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/server/clock.js';
import { socketTransport } from '../../src/server/socket-transport.js';
import type { Transport } from '../../src/server/transport.js';
import { testCertificate } from '../helpers/certs.js';
import { until } from '../helpers/until.js';

const servers: Server[] = [];
const sockets: TLSSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

/** A server transport over real TLS on loopback, and the client socket at the other end. */
async function pair(): Promise<{ transport: Transport; client: TLSSocket }> {
  const cert = await testCertificate();
  let accepted: (socket: TLSSocket) => void = () => {};
  const arrived = new Promise<TLSSocket>((resolve) => {
    accepted = resolve;
  });
  const server = createServer(
    { cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath) },
    (socket) => accepted(socket),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  sockets.push(client);
  const socket = await arrived;
  sockets.push(socket);
  const transport = socketTransport(socket, socket, { address: '127.0.0.1', port }, '127.0.0.1', {
    graceMs: 1000,
    clock: systemClock,
  });
  return { transport, client };
}

describe('SocketTransport.writeLent over real TLS', () => {
  it('delivers header and body intact and reports every body written', async () => {
    const { transport, client } = await pair();
    const bodies = Array.from({ length: 8 }, () => randomBytes(256 * 1024 + 16));
    const received: Buffer[] = [];
    client.on('data', (d: Buffer) => received.push(d));
    let written = 0;
    for (const [i, body] of bodies.entries())
      transport.writeLent?.(`H${i}\n`, body, () => written++);
    const expected = Buffer.concat(bodies.flatMap((b, i) => [Buffer.from(`H${i}\n`), b]));
    expect(
      await until(() => received.reduce((n, d) => n + d.length, 0) >= expected.length, 20_000),
    ).toBe(true);
    expect(Buffer.concat(received).equals(expected)).toBe(true);
    expect(await until(() => written === bodies.length, 20_000)).toBe(true);
  });

  it('reports every body given back when the peer goes away with writes still queued', async () => {
    const { transport, client } = await pair();
    client.pause(); // (reads nothing: the server's writes queue up)
    let written = 0;
    const n = 64; // 16 MiB: far more than the socket buffers take
    for (let i = 0; i < n; i++)
      transport.writeLent?.(`H${i}\n`, randomBytes(256 * 1024), () => written++);
    expect(transport.writableLength).toBeGreaterThan(0);
    client.destroy();
    // every callback runs (written out or failed): the read buffers go back to their pool
    expect(await until(() => written === n, 20_000)).toBe(true);
  });
});
