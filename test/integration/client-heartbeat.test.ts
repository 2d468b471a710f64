import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../../src/client/chat-client.js';
import { ServerConnection } from '../../src/client/connection.js';
import type { ConnectionState } from '../../src/client/events.js';
import { createIdentity } from '../../src/client/keystore.js';
import { parsePin } from '../../src/client/pinning.js';
import { certificatePin } from '../../src/server/certs.js';
import { testCertificate } from '../helpers/certs.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function track(chat: TestChat): ConnectionState[] {
  const states: ConnectionState[] = [];
  chat.client.on('event', (event) => {
    if (event.kind === 'connection') states.push(event.status);
  });
  return states;
}

describe('client heartbeat over TLS', () => {
  let server: TestServer;

  it('keeps an idle v2 client connected past the server idle timeout, with pings answered', async () => {
    server = await startTestServer({ idleTimeoutMs: 800 });
    cleanups.push(() => server.close());
    const chat = await startChat('idler', server.port, server.server.pin, undefined, {
      heartbeat: { intervalMs: 200, timeoutMs: 1000 },
    });
    cleanups.push(() => chat.close());
    const states = track(chat);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // > 3 idle timeouts
    expect(states.filter((s) => s.state !== 'connected')).toEqual([]);
    expect(chat.frames.filter((f) => f.type === 'pong').length).toBeGreaterThanOrEqual(3);
    expect(server.logs.events('idle.timeout')).toEqual([]);
  });

  it('without the heartbeat the same client is closed by the idle timeout (the test can fail)', async () => {
    server = await startTestServer({ idleTimeoutMs: 800 });
    cleanups.push(() => server.close());
    const chat = await startChat('sleeper', server.port, server.server.pin, undefined, {
      heartbeat: false,
    });
    cleanups.push(() => chat.close());
    await chat.waitForFrame((f) => f.type === 'error' && f.code === 'E_IDLE_TIMEOUT', 5000);
    expect(chat.frames.some((f) => f.type === 'pong')).toBe(false);
  });

  it('drops a half-open connection (server stops answering) and reconnects', async () => {
    const cert = await testCertificate();
    let connections = 0;
    // A v2 server that welcomes the client and then reads but never writes again, as if the
    // route had died without FIN or RST.
    const silent: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (socket) => {
      connections++;
      socket.once('data', () => {
        socket.write('{"type":"welcome","v":2,"caps":["ping"],"users":{},"peers":{}}\n');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const port = (silent.address() as AddressInfo).port;
    const home = mkdtempSync(join(tmpdir(), 'securechat-heartbeat-'));
    const connection = new ServerConnection({
      host: '127.0.0.1',
      port,
      pin: parsePin(certificatePin(cert.certPem)),
      heartbeat: { intervalMs: 150, timeoutMs: 400 },
      reconnect: { enabled: true, initialDelayMs: 50, maxDelayMs: 100 },
    });
    const client = new ChatClient({
      name: 'alice',
      connection,
      identity: createIdentity(home, 'alice', undefined, { N: 1024, r: 8, p: 1 }),
      configDir: home,
    });
    const states: ConnectionState[] = [];
    client.on('event', (event) => {
      if (event.kind === 'connection') states.push(event.status);
    });
    cleanups.push(() => client.close());
    const started = Date.now();
    client.start();
    await until(() => connections >= 2, 5000, 'a reconnect after the dead link');
    const elapsed = Date.now() - started;
    // interval (150) + timeout (400) + backoff (at most 100) plus handshakes: well under 4 s.
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(4000);
    const dropped = states.find((s) => s.state === 'reconnecting');
    expect(dropped && 'reason' in dropped ? dropped.reason : '').toMatch(/did not answer a ping/);
    await until(() => connections >= 3, 5000, 'the new link found dead as well');
  });
});
