import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/server/config.js';
import { plainProbe } from '../helpers/plain-probe.js';
import { RawClient, randomPub } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

/**
 * `--no-plaintext-reply`: as the default, the first bytes go to OpenSSL unparsed and
 * plaintext clients are recognized from the TLS layer's error, counted and logged; but
 * they are dropped without an answer.
 */
describe('plaintext reply off: dropped unanswered', () => {
  let t: TestServer;
  const sockets: Socket[] = [];
  const clients: RawClient[] = [];

  const start = async (overrides: Partial<ServerConfig> = {}) => {
    t = await startTestServer({ handshakeTimeoutMs: 400, ...overrides });
  };
  /** Sends `bytes` over plain TCP; resolves with everything the server answered before closing. */
  const probe = (bytes: string | Buffer) => plainProbe(t.port, bytes, sockets);

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sockets.splice(0)) s.destroy();
    await t.close();
  });

  it('by default an HTTP request gets a plain-text 400 (plaintext-reply.test.ts)', async () => {
    await start();
    expect(await probe('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('an HTTP request and other plaintext are dropped unanswered, counted and logged', async () => {
    await start({ plaintextReply: false });
    expect(await probe('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('');
    expect(await probe('CONNECT example.org:443 HTTP/1.1\r\n\r\n')).toBe('');
    expect(await probe('hello there, not TLS\n')).toBe('');
    await until(() => t.server.stats.tlsRejected.total >= 3);
    expect(t.server.stats.tlsRejected.get('plaintext_http')).toBe(2);
    expect(t.server.stats.tlsRejected.get('plaintext')).toBe(1);
    expect(t.server.stats.securityEvents.get('plaintext_probe')).toBe(3);
    const reasons = t.logs.events('plaintext.probe').map((r) => r.reason);
    expect(reasons).toEqual(expect.arrayContaining(['plaintext_http', 'plaintext']));
  });

  it('a TLS client is served as usual', async () => {
    await start({ plaintextReply: false });
    const alice = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'alice' });
    clients.push(alice);
    const bob = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'bob' });
    clients.push(bob);
    const users = await alice.next((f) => f.type === 'users' && 'bob' in (f.users as object));
    expect(Object.keys(users.users as object).sort()).toEqual(['alice', 'bob']);
  });

  it('a connection that never finishes its handshake is cut at the deadline', async () => {
    await start({ plaintextReply: false });
    const answer = probe(Buffer.from([0x16, 0x03, 0x01, 0x00])); // a handshake that stops
    expect(await answer).toBe('');
    expect(t.server.stats.tlsRejected.get('handshake_timeout')).toBe(1);
  });

  it('a client that leaves before its handshake is counted as a reset', async () => {
    await start({ plaintextReply: false });
    const socket = netConnect({ host: '127.0.0.1', port: t.port });
    sockets.push(socket);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.destroy();
    await until(() => t.server.stats.tlsRejected.get('reset') === 1);
  });

  it('trusted forwarders still send their PROXY header first', async () => {
    await start({ plaintextReply: false, trustedProxies: ['127.0.0.1'] });
    const socket = netConnect({ host: '127.0.0.1', port: t.port });
    sockets.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('PROXY TCP4 203.0.113.7 127.0.0.1 40000 5000\r\n');
    const secure = tlsConnect({ socket, ca: [t.certPem], checkServerIdentity: () => undefined });
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    secure.write(`${JSON.stringify({ type: 'hello', user: 'proxied', pub: randomPub() })}\n`);
    await until(() => t.logs.events('connection.opened').length >= 1);
    expect(String(t.logs.events('connection.opened')[0]!.remote)).toBe('203.0.113.7:40000');
    secure.destroy();
  });

  it('the per-address cap applies before any TLS work', async () => {
    await start({ plaintextReply: false, maxConnectionsPerIp: 1 });
    const first = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'first' });
    clients.push(first);
    expect(await probe('GET / HTTP/1.1\r\n\r\n')).toBe('');
    await until(() => t.server.stats.connectionsRefused.get('per_ip_cap') === 1);
    expect(t.server.stats.tlsRejected.get('plaintext_http')).toBe(0);
  });
});
