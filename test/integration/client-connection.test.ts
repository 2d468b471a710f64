import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../../src/client/chat-client.js';
import type { ClientEvent, ConnectionState } from '../../src/client/events.js';
import { createIdentity } from '../../src/client/identity/keystore.js';
import { ServerConnection } from '../../src/client/net/connection.js';
import { parsePin } from '../../src/client/net/pinning.js';
import { certificatePin } from '../../src/server/certs.js';
import { testCertificate } from '../helpers/certs.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { RawClient, TestClock } from '../helpers/raw-client.js';
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

  // The server runs on a hand-moved clock and its idle sweep is run by hand: the client's
  // heartbeat (real timers, short interval) must keep it alive across 2.5 idle timeouts of
  // server time, and without the heartbeat the same client is swept. No wall-clock wait.
  it('keeps an idle v2 client connected past the server idle timeout, with pings answered', async () => {
    const clock = new TestClock();
    server = await startTestServer({ idleTimeoutMs: 1500 }, { now: clock.now });
    cleanups.push(() => server.close());
    const chat = await startChat('idler', server.port, server.server.pin, undefined, {
      heartbeat: { intervalMs: 50, timeoutMs: 3000 },
    });
    cleanups.push(() => chat.close());
    const states = track(chat);
    const pongs = () => chat.frames.filter((f) => f.type === 'pong').length;
    for (let step = 0; step < 4; step++) {
      clock.advance(1000); // 4 s of server time in all: more than 2.5 idle timeouts
      const seen = pongs();
      await until(() => pongs() > seen, 5000, 'a ping answered at the new server time');
      await server.server.sweep();
    }
    expect(states.filter((s) => s.state !== 'connected')).toEqual([]);
    expect(server.logs.events('idle.timeout')).toEqual([]);
  });

  it('without the heartbeat the same client is closed by the idle timeout (the test can fail)', async () => {
    const clock = new TestClock();
    server = await startTestServer({ idleTimeoutMs: 1500 }, { now: clock.now });
    cleanups.push(() => server.close());
    const chat = await startChat('sleeper', server.port, server.server.pin, undefined, {
      heartbeat: false,
    });
    cleanups.push(() => chat.close());
    clock.advance(1000);
    await server.server.sweep();
    expect(server.logs.events('idle.timeout')).toEqual([]); // not yet
    clock.advance(600);
    await server.server.sweep();
    await chat.waitForFrame((f) => f.type === 'error' && f.code === 'E_IDLE_TIMEOUT', 8000);
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

describe('client framing', () => {
  it('takes the frames before an over-long line, then drops the link at once', async () => {
    const cert = await testCertificate();
    const bad: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (socket) => {
      socket.once('data', () => {
        socket.write(
          Buffer.concat([
            Buffer.from('{"type":"server","text":"first"}\n'),
            Buffer.alloc(5000, 0x61), // no newline, and nothing follows
          ]),
        );
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => bad.close(() => resolve())));
    const connection = new ServerConnection({
      host: '127.0.0.1',
      port: (bad.address() as AddressInfo).port,
      pin: parsePin(certificatePin(cert.certPem)),
      maxLineBytes: 4096,
    });
    cleanups.push(() => connection.close());
    const frames: string[] = [];
    const errors: string[] = [];
    connection.on('frame', (frame) => frames.push(frame.type));
    connection.on('badFrame', (error) => errors.push(error.code));
    connection.on('state', (state) => {
      if (state.state === 'connected') connection.send({ type: 'hello' });
    });
    connection.start();
    await until(() => connection.state.state === 'closed', 5000, 'the link to close');
    expect(frames).toEqual(['server']);
    expect(errors).toEqual(['E_FRAME_TOO_LONG']);
    expect(connection.state).toMatchObject({ reason: 'server sent an oversized line' });
  });
});

describe('ServerConnection.send with the parts of one frame', () => {
  it('writes the parts back to back, in order, not as JSON (a binary chunk header, ciphertext and tag)', async () => {
    const cert = await testCertificate();
    const received: Buffer[] = [];
    const raw: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (socket) => {
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => raw.close(() => resolve())));
    const connection = new ServerConnection({
      host: '127.0.0.1',
      port: (raw.address() as AddressInfo).port,
      pin: parsePin(certificatePin(cert.certPem)),
    });
    cleanups.push(() => connection.close());
    const header = Buffer.from('{"type":"fputb","len":70000}\n');
    const body = Buffer.alloc(69_984, 0x5a);
    const tag = Buffer.alloc(16, 0x07);
    connection.on('state', (state) => {
      if (state.state === 'connected') connection.send([header, body, tag]);
    });
    connection.start();
    const wanted = Buffer.concat([header, body, tag]);
    await until(() => Buffer.concat(received).length >= wanted.length, 5000, 'the parts');
    expect(Buffer.concat(received).equals(wanted)).toBe(true);
  });
});

describe('legacy client reconnecting while the server still holds its name', () => {
  function legacyClient(port: number, pin: string, reconnect: boolean) {
    const connection = new ServerConnection({
      host: '127.0.0.1',
      port,
      pin: parsePin(pin),
      reconnect: { enabled: reconnect, initialDelayMs: 200, maxDelayMs: 400 },
    });
    const client = new ChatClient({ name: 'carol', connection });
    const events: ClientEvent[] = [];
    const fatal: Error[] = [];
    client.on('event', (event) => events.push(event));
    client.on('fatal', (error) => fatal.push(error));
    cleanups.push(() => client.close());
    return { client, events, fatal };
  }

  it('keeps retrying with backoff instead of giving up, and gets the name back', async () => {
    const server = await startTestServer({ lobby: undefined });
    cleanups.push(() => server.close());
    const carol = legacyClient(server.port, server.server.pin, true);
    carol.client.start();
    await until(() => carol.events.some((e) => e.kind === 'users'), 5000, 'the first welcome');
    const welcomes = () => server.logs.events('hello.accepted').length;
    expect(welcomes()).toBe(1);
    // Drop the link and, before the client comes back, let a stand-in take the name (as a
    // half-open old session would hold it).
    carol.client.reconnect();
    const stale = await RawClient.hello({
      port: server.port,
      certPem: server.certPem,
      user: 'carol',
    });
    await until(
      () => carol.events.some((e) => e.kind === 'warning' && e.code === 'E_NAME_TAKEN'),
      5000,
      'the refusal',
    );
    expect(carol.fatal).toEqual([]);
    // Still refused a second time (the backoff grows, the client does not quit)...
    await until(
      () =>
        carol.events.filter((e) => e.kind === 'warning' && e.code === 'E_NAME_TAKEN').length >= 2,
      5000,
      'a second refusal',
    );
    // ...and the name comes back once the stale session is gone.
    stale.socket.destroy();
    await until(() => welcomes() >= 3, 10_000, 'a welcome after the stale session closed');
    // The server logs the acceptance before its welcome reaches the client: wait for it.
    await until(() => carol.client.ready, 5000, 'the client ready again');
    expect(carol.fatal).toEqual([]);
    expect(carol.client.ready).toBe(true);
  });

  it('without reconnects the refusal is final (the client exits with a clear error)', async () => {
    const server = await startTestServer({ lobby: undefined });
    cleanups.push(() => server.close());
    const stale = await RawClient.hello({
      port: server.port,
      certPem: server.certPem,
      user: 'carol',
    });
    cleanups.push(() => void stale.socket.destroy());
    const carol = legacyClient(server.port, server.server.pin, false);
    carol.client.start();
    await until(() => carol.fatal.length > 0, 5000, 'the fatal refusal');
    expect((carol.fatal[0] as Error & { code?: string }).code).toBe('E_NAME_TAKEN');
  });
});
