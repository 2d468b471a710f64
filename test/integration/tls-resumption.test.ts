import { randomBytes } from 'node:crypto';
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { exporterOf } from '../helpers/v2-hello.js';

// TLS session resumption stays off (docs/SECURITY.md, "Transport"): the server resumes no
// TLS 1.3 ticket and no TLS 1.2 session, so every connection proves the pinned certificate
// key anew and every v2 hello proof is bound to the exporter of a full handshake.

let test: TestServer;
beforeAll(async () => {
  test = await startTestServer();
});
afterAll(async () => {
  await test.close();
});

function open(
  options: Partial<ConnectionOptions> = {},
): Promise<{ socket: TLSSocket; tickets: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const tickets: Buffer[] = [];
    const socket = connect({
      host: '127.0.0.1',
      port: test.port,
      ca: [test.certPem],
      checkServerIdentity: () => undefined,
      ...options,
    });
    socket.on('session', (session: Buffer) => tickets.push(session));
    socket.once('secureConnect', () => resolve({ socket, tickets }));
    socket.once('error', reject);
  });
}

/** Sends a v1 hello and a ping and waits for the pong: what the server sent before has arrived. */
async function greet(socket: TLSSocket, user: string): Promise<string> {
  let text = '';
  socket.setEncoding('utf8');
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no pong; got ${text}`)), 5000);
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('"pong"')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const pub = randomBytes(32).toString('base64');
  socket.write(`{"type":"hello","user":"${user}","pub":"${pub}"}\n{"type":"ping"}\n`);
  await done;
  return text;
}

describe('TLS session resumption is off', () => {
  it('TLS 1.3: a ticket offered again is not resumed (full handshake, own exporter)', async () => {
    const first = await open({ minVersion: 'TLSv1.3' });
    expect(first.socket.getProtocol()).toBe('TLSv1.3');
    expect(await greet(first.socket, 'tix13a')).toContain('"welcome"');
    // OpenSSL still sends its two TLS 1.3 tickets under SSL_OP_NO_TICKET (stateful ones,
    // never stored: Node 20 cannot set SSL_CTX_set_num_tickets to 0). They must be useless.
    const exporterA = Buffer.from(exporterOf(first.socket));
    first.socket.destroy();
    for (const ticket of first.tickets.length > 0 ? first.tickets : [undefined]) {
      const again = await open({ minVersion: 'TLSv1.3', ...(ticket ? { session: ticket } : {}) });
      expect(again.socket.isSessionReused()).toBe(false);
      expect(await greet(again.socket, `tix13b${first.tickets.indexOf(ticket!)}`)).toContain(
        '"welcome"',
      );
      expect(Buffer.from(exporterOf(again.socket)).equals(exporterA)).toBe(false);
      again.socket.destroy();
    }
  });

  it('TLS 1.2: a session offered again is not resumed; each connection has its own exporter', async () => {
    const first = await open({ maxVersion: 'TLSv1.2' });
    expect(first.socket.getProtocol()).toBe('TLSv1.2');
    await greet(first.socket, 'tix12a');
    const saved = first.socket.getSession();
    const exporterA = Buffer.from(exporterOf(first.socket));
    first.socket.destroy();
    expect(saved).toBeDefined();

    const second = await open({ maxVersion: 'TLSv1.2', ...(saved ? { session: saved } : {}) });
    expect(second.socket.isSessionReused()).toBe(false);
    expect(await greet(second.socket, 'tix12b')).toContain('"welcome"');
    expect(Buffer.from(exporterOf(second.socket)).equals(exporterA)).toBe(false);
    second.socket.destroy();
  });

  it('an ordinary client still gets in afterwards', async () => {
    const client = await RawClient.hello({ port: test.port, certPem: test.certPem, user: 'after' });
    await client.sync();
    client.socket.destroy();
  });
});
