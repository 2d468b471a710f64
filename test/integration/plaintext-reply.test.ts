import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/server/config.js';
import { plainProbe } from '../helpers/plain-probe.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

/**
 * The default: the first bytes go to OpenSSL unparsed (JS reads them only to hand them
 * over: tls-listener.ts says why), and a plaintext client is answered in plain text from
 * OpenSSL's refusal of its first record, on the TCP socket before it is closed. The log's
 * `detail` carries OpenSSL's error code (JS never judges the bytes).
 */
describe('plaintext reply (default): plaintext answered from the TLS error', () => {
  let t: TestServer;
  const sockets: Socket[] = [];
  const clients: RawClient[] = [];

  const start = async (overrides: Partial<ServerConfig> = {}) => {
    t = await startTestServer({ handshakeTimeoutMs: 400, ...overrides });
  };
  /** Sends `bytes` over plain TCP; resolves with everything the server answered before closing. */
  const probe = (bytes: string | Buffer) => plainProbe(t.port, bytes, sockets);
  const probeLog = (reason: string) =>
    t.logs.events('plaintext.probe').find((r) => r.reason === reason);

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sockets.splice(0)) s.destroy();
    await t.close();
  });

  it('an HTTP request gets a plain-text 400, named by OpenSSL, counted and logged', async () => {
    await start();
    const reply = await probe('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(reply).toContain('this port speaks TLS');
    expect(await until(() => t.server.stats.tlsRejected.get('plaintext_http') === 1)).toBe(true);
    expect(t.server.stats.securityEvents.get('plaintext_probe')).toBe(1);
    expect(probeLog('plaintext_http')?.detail).toBe('ERR_SSL_HTTP_REQUEST');
  });

  it('a proxy CONNECT gets the 400 too', async () => {
    await start();
    expect(await probe('CONNECT example.org:443 HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await until(() => t.server.stats.tlsRejected.get('plaintext_http') === 1)).toBe(true);
    expect(probeLog('plaintext_http')?.detail).toBe('ERR_SSL_HTTPS_PROXY_REQUEST');
  });

  it('a seed client speaking plain TCP gets E_TLS_REQUIRED as a protocol line', async () => {
    await start();
    const reply = await probe('{"type":"hello","user":"alice","pub":"AAAA"}\n');
    expect(reply.endsWith('\n')).toBe(true);
    expect(JSON.parse(reply)).toMatchObject({ type: 'error', code: 'E_TLS_REQUIRED' });
    expect(await until(() => t.server.stats.tlsRejected.get('plaintext') === 1)).toBe(true);
    expect(probeLog('plaintext')?.detail).toBe('ERR_SSL_WRONG_VERSION_NUMBER');
  });

  it('a first write of 256 KiB of garbage is refused like any plaintext, and TLS clients go on', async () => {
    // JS reads the first chunk before OpenSSL sees it: a huge one must cost no more than that.
    await start();
    const reply = await probe(Buffer.alloc(256 * 1024, 0x41));
    expect(JSON.parse(reply)).toMatchObject({ code: 'E_TLS_REQUIRED' });
    expect(await until(() => t.server.stats.tlsRejected.get('plaintext') === 1)).toBe(true);
    const alice = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'alice' });
    clients.push(alice);
    await alice.sync();
  });

  it('an untrusted PROXY header is answered and counted as plaintext', async () => {
    // OpenSSL sees a record that is not TLS; nothing tells it apart from other plaintext.
    await start();
    const reply = await probe('PROXY TCP4 203.0.113.7 127.0.0.1 40000 5000\r\n');
    expect(JSON.parse(reply)).toMatchObject({ code: 'E_TLS_REQUIRED' });
    expect(await until(() => t.server.stats.tlsRejected.get('plaintext') === 1)).toBe(true);
    expect(t.server.stats.securityEvents.get('plaintext_probe')).toBe(1);
  });

  it('fewer than 5 bytes of plaintext wait for the handshake deadline, unanswered', async () => {
    // OpenSSL needs a whole record header to refuse a record (docs/SECURITY.md).
    await start();
    expect(await probe('hi\n')).toBe('');
    expect(t.server.stats.tlsRejected.get('handshake_timeout')).toBe(1);
  });

  it('a TLS client sending garbage mid-handshake gets no plain text after the TLS records', async () => {
    await start();
    const clientHello = await firstFlightOfATlsClient();
    const socket = netConnect({ host: '127.0.0.1', port: t.port });
    sockets.push(socket);
    socket.on('error', () => {});
    const parts: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      if (parts.length === 0) socket.write('garbage, not a TLS record\n');
      parts.push(chunk);
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(clientHello);
    await closed;
    const answered = Buffer.concat(parts);
    expect(answered[0]).toBe(0x16); // the server's TLS flight
    expect(answered.toString('latin1')).not.toContain('E_TLS_REQUIRED');
    expect(answered.toString('latin1')).not.toContain('this port speaks TLS');
    // Counted as the TLS error it is, not as a plaintext probe (the client spoke TLS first).
    expect(await until(() => t.server.stats.tlsRejected.get('tls_version') === 1)).toBe(true);
    expect(t.server.stats.tlsRejected.get('plaintext') ?? 0).toBe(0);
    expect(t.server.stats.securityEvents.get('plaintext_probe') ?? 0).toBe(0);
  });

  it('TLS clients are served beside the probes', async () => {
    await start();
    const answered = probe('GET / HTTP/1.1\r\n\r\n');
    const alice = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'alice' });
    clients.push(alice);
    expect(await answered).toMatch(/^HTTP\/1\.1 400 /);
    await alice.sync();
    expect(alice.socket.destroyed).toBe(false);
  });
});

/** The first bytes a TLS client sends (its ClientHello record), caught on an in-memory stream. */
function firstFlightOfATlsClient(): Promise<Buffer> {
  return new Promise((resolve) => {
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        resolve(Buffer.from(chunk));
        done();
        setImmediate(() => client.destroy());
      },
    });
    const client = tlsConnect({ socket: stream, rejectUnauthorized: false });
    client.on('error', () => {});
  });
}
