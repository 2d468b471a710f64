import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/server/config.js';
import { RawClient, randomPub, sleep } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';
import { newIdentity, v2Hello } from '../helpers/v2-hello.js';

const GOOD = '127.0.0.2'; // the well-behaved pair comes from another loopback address
const NONCE = Buffer.alloc(12, 1).toString('base64');
const relay = (to: string, extra: Record<string, unknown> = {}) => ({
  type: 'relay',
  to,
  alg: 'X25519+AESGCM',
  nonce: NONCE,
  cipher: Buffer.alloc(32, 2).toString('base64'),
  ...extra,
});

describe('security: each attack leaves a well-behaved client served', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const sockets: Socket[] = [];

  const start = async (overrides: Partial<ServerConfig> = {}) => {
    t = await startTestServer({ helloTimeoutMs: 400, handshakeTimeoutMs: 400, ...overrides });
  };
  const good = async (user: string) => {
    const client = await RawClient.hello({
      port: t.port,
      certPem: t.certPem,
      user,
      localAddress: GOOD,
    });
    clients.push(client);
    return client;
  };
  /** Alice and bob exchange a relay: the server still serves well-behaved clients. */
  const stillServes = async (label: string) => {
    const a = await good(`a${label}`);
    const b = await good(`b${label}`);
    a.send(relay(`b${label}`, { id: `x${label}` }));
    expect((await b.next((f) => f.type === 'relay')).from).toBe(`a${label}`);
    await a.next((f) => f.type === 'ack');
  };
  const raw = async (options: { localAddress?: string } = {}) => {
    const client = await RawClient.connect({ port: t.port, certPem: t.certPem, ...options });
    clients.push(client);
    return client;
  };
  const tcp = (): Socket => {
    const socket = netConnect({ host: '127.0.0.1', port: t.port });
    socket.on('error', () => {});
    socket.resume(); // drain whatever the server answers, so 'close' can follow its FIN
    sockets.push(socket);
    return socket;
  };
  const closed = (socket: Socket) =>
    new Promise<void>((resolve) =>
      socket.destroyed ? resolve() : socket.once('close', () => resolve()),
    );

  /** Sends valid frames far past the rate limit until the server cuts the connection. */
  const floodUntilCut = async (flooder: RawClient) => {
    for (let i = 0; i < 500 && !flooder.socket.destroyed; i++)
      flooder.send({ type: 'chat', text: `spam ${i}` });
    await flooder.error('E_RATE_LIMITED');
    await flooder.closed;
  };

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sockets.splice(0)) s.destroy();
    await t.close();
  });

  it('slowloris: silent TCP, silent TLS, and a hello dribbled one byte at a time are all cut off', async () => {
    await start();
    const silentTcp = tcp();
    silentTcp.write(Buffer.from([0x16, 0x03, 0x01, 0x00])); // starts a handshake, never finishes
    const silentTls = await raw();
    const dribble = await raw();
    const hello = Buffer.from(
      `${JSON.stringify({ type: 'hello', user: 'slow', pub: randomPub() })}\n`,
    );
    let i = 0;
    const timer = setInterval(() => {
      if (i < hello.length && !dribble.socket.destroyed)
        dribble.socket.write(hello.subarray(i, ++i));
    }, 100);
    await stillServes('1');
    await Promise.all([closed(silentTcp), silentTls.closed, dribble.closed]);
    clearInterval(timer);
    expect(i).toBeLessThan(hello.length); // cut before it could finish
    expect(t.logs.events('hello.timeout').length).toBeGreaterThanOrEqual(2);
    expect(t.logs.events('tls.failure').map((r) => r.reason)).toContain('handshake_timeout');
    await stillServes('2');
  });

  it('plaintext HTTP and garbage bytes are refused and counted', async () => {
    await start();
    const http = tcp();
    http.write('GET /admin HTTP/1.1\r\nHost: x\r\n\r\n');
    const junk = tcp();
    junk.write(randomBytes(300));
    await Promise.all([closed(http), closed(junk)]);
    const afterTls = await raw();
    afterTls.send(randomBytes(200));
    await afterTls.closed;
    await stillServes('1');
    const reasons = t.logs.events('plaintext.probe').map((r) => r.reason);
    expect(reasons).toContain('plaintext_http');
    expect(t.server.stats.tlsRejected.total).toBeGreaterThanOrEqual(2);
  });

  it('a 10 MB line is cut at the line limit without being buffered', async () => {
    await start({ maxLineBytes: 64 * 1024 });
    const attacker = await raw();
    attacker.send({ type: 'hello', user: 'big', pub: randomPub() });
    await attacker.next((f) => f.type === 'welcome');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    while (written < 10 * 1024 * 1024 && !attacker.socket.destroyed) {
      attacker.socket.write(chunk);
      written += chunk.length;
      if (written % (1024 * 1024) === 0) await sleep(1);
    }
    await attacker.error('E_FRAME_TOO_LONG');
    await attacker.closed;
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
    await stillServes('1');
  });

  it('frames before an over-long line in the same write are served, then the line is refused at once', async () => {
    await start({ maxLineBytes: 4096 });
    const client = await good('packed');
    // One write: a complete server-readable chat, then the start of a line past the limit
    // and nothing more (no later chunk would trigger the error).
    client.socket.write(
      Buffer.concat([
        Buffer.from(`${JSON.stringify({ type: 'chat', text: 'before the flood' })}\n`),
        Buffer.alloc(5000, 0x61),
      ]),
    );
    const echo = await client.next((f) => f.type === 'server');
    expect(echo.text).toBe('echo: before the flood');
    await client.error('E_FRAME_TOO_LONG');
    await client.closed;
  });

  it('deeply nested JSON and prototype keys are rejected without crashing', async () => {
    await start({ maxLineBytes: 1024 * 1024, byteBurst: 4 * 1024 * 1024 });
    const attacker = await good('mallory');
    attacker.send(`{"type":"chat","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}\n`);
    await attacker.error('E_JSON_TOO_COMPLEX');
    attacker.send('{"type":"list","__proto__":{"isAdmin":true}}\n');
    await attacker.error('E_FORBIDDEN_KEY');
    attacker.send('{"type":"relay","constructor":{"prototype":{}},"to":"x"}\n');
    await attacker.error('E_FORBIDDEN_KEY');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    await stillServes('1');
  });

  it('a flood of valid frames is rate limited, then disconnected; repeat offenders are refused', async () => {
    await start({
      framesPerSecond: 20,
      frameBurst: 40,
      abuseLimit: 50,
      strikes: 2,
      penaltyMs: 60_000,
      sharedAddresses: [], // loopback stands for one real client here
    });
    for (let round = 0; round < 2; round++) {
      const flooder = await raw();
      flooder.send({ type: 'hello', user: `flood${round}`, pub: randomPub() });
      await flooder.next((f) => f.type === 'welcome');
      await floodUntilCut(flooder);
    }
    expect(t.logs.events('rate_limit.disconnect')).toHaveLength(2);
    expect(t.logs.events('address.penalized')).toHaveLength(1);
    const refused = tcp();
    await closed(refused);
    expect(t.server.stats.connectionsRefused.get('penalized')).toBeGreaterThanOrEqual(1);
    await stillServes('1'); // from another address
  });

  it('behind a shared address a repeat offender is refused by identity, not everyone there', async () => {
    await start({ framesPerSecond: 20, frameBurst: 40, abuseLimit: 50, strikes: 2 });
    const flooderId = newIdentity();
    for (let round = 0; round < 2; round++) {
      const flooder = await raw();
      flooder.send(v2Hello(flooder.socket, 'flooder', flooderId, ['ping']));
      await flooder.next((f) => f.type === 'welcome');
      await floodUntilCut(flooder);
    }
    expect(t.logs.events('identity.penalized')).toHaveLength(1);
    expect(t.logs.events('address.penalized')).toEqual([]);
    const again = await raw();
    again.send(v2Hello(again.socket, 'flooder', flooderId, ['ping']));
    expect((await again.error('E_RATE_LIMITED')).text).toMatch(/abuse/);
    // Everyone else behind the same address (127.0.0.1) still gets in.
    const neighbour = await raw();
    neighbour.send(v2Hello(neighbour.socket, 'neighbour', newIdentity(), ['ping']));
    await neighbour.next((f) => f.type === 'welcome');
    await stillServes('1');
  });

  it('a reader that stops reading is not queued for; senders are told, with the ref; nobody is struck', async () => {
    await start({ maxSendQueueBytes: 256 * 1024, rateLimit: false });
    const sink = await good('sink');
    const sender = await good('sender');
    sink.socket.pause();
    const big = Buffer.alloc(16 * 1024, 1).toString('base64');
    let failure: Record<string, unknown> | undefined;
    for (let i = 0; i < 3000 && !failure; i++) {
      sender.send(relay('sink', { cipher: big, id: `m${i}` }));
      if (i % 20 === 19) {
        await sleep(2);
        failure = sender.frames.find((f) => f.type === 'error');
      }
    }
    failure ??= await sender.next((f) => f.type === 'error');
    expect(['E_PEER_SLOW', 'E_PEER_OFFLINE']).toContain(failure.code);
    expect(failure.ref).toMatch(/^m\d+$/);
    expect(failure.code).toBe('E_PEER_SLOW');
    expect(t.server.stats.securityEvents.get('abuse_disconnect')).toBe(0);
    await stillServes('1');
  });

  it('500 connections from one address stop at the per-address cap; others still get in', async () => {
    await start({ maxConnectionsPerIp: 20 });
    const flood = Array.from({ length: 500 }, () => tcp());
    const refused = () => t.server.stats.connectionsRefused.get('per_ip_cap') ?? 0;
    // 500 TCP connects take seconds on a loaded 2-core machine: bounded generously
    await until(() => refused() >= 480 && flood.filter((s) => !s.destroyed).length <= 20, 25_000);
    const open = flood.filter((s) => !s.destroyed).length;
    expect(open).toBeLessThanOrEqual(20);
    expect(t.server.stats.connectionsRefused.get('per_ip_cap')).toBeGreaterThanOrEqual(480);
    await stillServes('1');
    expect(t.logs.events('connection.refused').length).toBeLessThan(5); // throttled log
  }, 30_000);

  it.each([
    ['huge', 'x'.repeat(10_000)],
    ['control character', 'bob\u0007'],
    ['escape sequence', 'bob\u001b[2J'],
    ['Cyrillic homoglyph', 'аlice'],
    ['bidi mark', 'alice\u200f'],
    ['zero-width joiner', 'al\u200dice'],
  ])('refuses a hello with a %s name', async (_label, name) => {
    await start();
    const client = await raw();
    client.send({ type: 'hello', user: name, pub: randomPub() });
    await client.error('E_BAD_NAME');
    await stillServes('1');
  });

  it('relays to yourself work; to an unknown user fail with the ref', async () => {
    await start();
    const alice = await good('alice');
    alice.send(relay('alice', { id: 'self' }));
    expect((await alice.next((f) => f.type === 'relay')).from).toBe('alice');
    alice.send(relay('nobody', { id: 'nobody' }));
    expect((await alice.error('E_PEER_OFFLINE')).ref).toBe('nobody');
  });

  it('old TLS versions are refused and counted as such', async () => {
    await start();
    const result = await new Promise<string>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: t.port,
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
        rejectUnauthorized: false,
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      socket.once('secureConnect', () => resolve('connected'));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(result).not.toBe('connected');
    await until(() => t.logs.events('tls.failure').length > 0);
    const reasons = t.logs.events('tls.failure').map((r) => r.reason);
    expect(reasons.some((r) => r === 'tls_version' || r === 'tls_error')).toBe(true);
    await stillServes('1');
  });

  it('PROXY protocol: honoured from trusted forwarders only', async () => {
    await start({ trustedProxies: ['127.0.0.1'], maxConnectionsPerIp: 1 });
    const proxied = async (header: Buffer | string) => {
      const socket = netConnect({ host: '127.0.0.1', port: t.port });
      sockets.push(socket);
      await new Promise((r) => socket.once('connect', r));
      socket.write(header);
      const secure = tlsConnect({ socket, ca: [t.certPem], checkServerIdentity: () => undefined });
      await new Promise((r) => secure.once('secureConnect', r));
      return secure;
    };
    const v1 = await proxied('PROXY TCP4 203.0.113.7 127.0.0.1 40000 5000\r\n');
    const v2header = Buffer.concat([
      Buffer.from([
        0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00,
        0x0c,
      ]),
      Buffer.from([198, 51, 100, 9, 127, 0, 0, 1, 0x9c, 0x40, 0x13, 0x88]),
    ]);
    const v2 = await proxied(v2header);
    v1.write(`${JSON.stringify({ type: 'hello', user: 'viaV1', pub: randomPub() })}\n`);
    v2.write(`${JSON.stringify({ type: 'hello', user: 'viaV2', pub: randomPub() })}\n`);
    await until(() => t.logs.events('connection.opened').length >= 2);
    const remotes = t.logs.events('connection.opened').map((r) => String(r.remote));
    expect(remotes).toEqual(expect.arrayContaining(['203.0.113.7:40000', '198.51.100.9:40000']));
    // the per-address cap (1) applies to the real addresses: a second from 203.0.113.7 is refused
    const again = netConnect({ host: '127.0.0.1', port: t.port });
    sockets.push(again);
    again.on('error', () => {});
    again.resume();
    again.write('PROXY TCP4 203.0.113.7 127.0.0.1 40001 5000\r\n');
    await closed(again);
    expect(t.server.stats.connectionsRefused.get('per_ip_cap')).toBe(1);
    v1.destroy();
    v2.destroy();
  });

  it('without --trusted-proxy a PROXY header is a plaintext probe', async () => {
    // Nothing is read in JS before TLS from an untrusted address: OpenSSL refuses the header
    // as a record that is not TLS, like any other plaintext (`proxy_untrusted` is no longer
    // told apart; the probe still counts and is logged).
    await start();
    const socket = tcp();
    socket.write('PROXY TCP4 203.0.113.7 127.0.0.1 40000 5000\r\n');
    await closed(socket);
    expect(await until(() => t.server.stats.securityEvents.get('plaintext_probe') === 1)).toBe(
      true,
    );
    expect(t.logs.events('plaintext.probe').map((r) => r.reason)).toContain('plaintext');
  });

  it('logs a noisy source once per interval while counting every probe', async () => {
    await start();
    const probes = Array.from({ length: 20 }, () => {
      const socket = tcp();
      socket.write('GET / HTTP/1.1\r\n\r\n');
      return closed(socket);
    });
    await Promise.all(probes);
    expect(t.logs.events('plaintext.probe')).toHaveLength(1);
    expect(t.server.stats.tlsRejected.get('plaintext_http')).toBe(20);
  });
});
