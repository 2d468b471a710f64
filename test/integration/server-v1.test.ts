import { connect as netConnect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient, randomPub, sleep } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const NONCE = Buffer.alloc(12, 7).toString('base64');
const CIPHER = Buffer.alloc(40, 9).toString('base64');

function relay(to: string, extra: Record<string, unknown> = {}) {
  return { type: 'relay', to, alg: 'X25519+AESGCM', nonce: NONCE, cipher: CIPHER, ...extra };
}

describe('v1 server over real TLS', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const hello = async (user: string, pub?: string) => {
    const client = await RawClient.hello({
      port: t.port,
      certPem: t.certPem,
      user,
      ...(pub ? { pub } : {}),
    });
    clients.push(client);
    return client;
  };
  const raw = async () => {
    const client = await RawClient.connect({ port: t.port, certPem: t.certPem });
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

  it('welcomes with the directory and pushes users on join and leave', async () => {
    const alicePub = randomPub();
    const alice = await hello('alice', alicePub);
    const bobPub = randomPub();
    const bob = await hello('bob', bobPub);
    const joined = await alice.next((f) => f.type === 'users' && 'bob' in (f.users as object));
    expect(joined.users).toEqual({ alice: alicePub, bob: bobPub });
    bob.close();
    const left = await alice.next((f) => f.type === 'users' && !('bob' in (f.users as object)));
    expect(left.users).toEqual({ alice: alicePub });
  });

  it('forwards relays with the server-set from, and acks ids', async () => {
    const alice = await hello('alice');
    const bob = await hello('bob');
    alice.send(relay('bob', { id: 'm1' }));
    const delivered = await bob.next((f) => f.type === 'relay');
    expect(delivered).toEqual({ ...relay('bob'), from: 'alice', id: 'm1' });
    expect(await alice.next((f) => f.type === 'ack')).toEqual({ type: 'ack', id: 'm1' });
  });

  it('never trusts a client-supplied from (spoofing is logged)', async () => {
    const alice = await hello('alice');
    const bob = await hello('bob');
    alice.send(relay('bob', { from: 'carol' }));
    const delivered = await bob.next((f) => f.type === 'relay');
    expect(delivered.from).toBe('alice');
    await alice.sync();
    expect(t.logs.events('spoof.attempt')).toHaveLength(1);
  });

  it('resolves recipients case-insensitively', async () => {
    const alice = await hello('Alice');
    const bob = await hello('bob');
    bob.send(relay('ALICE'));
    const delivered = await alice.next((f) => f.type === 'relay');
    expect(delivered.from).toBe('bob');
  });

  it('refuses a name already online (case-insensitive) and keeps the first session', async () => {
    const alice = await hello('alice');
    const bob = await hello('bob');
    const impostor = await raw();
    impostor.send({ type: 'hello', user: 'ALICE', pub: randomPub() });
    await impostor.error('E_NAME_TAKEN');
    bob.send(relay('alice'));
    expect((await alice.next((f) => f.type === 'relay')).from).toBe('bob');
    // the refused connection may retry with a free name
    impostor.send({ type: 'hello', user: 'mallory', pub: randomPub() });
    await impostor.next((f) => f.type === 'welcome');
  });

  it('answers relays to someone offline with E_PEER_OFFLINE and the ref', async () => {
    const alice = await hello('alice');
    alice.send(relay('nobody', { id: 'x1' }));
    const error = await alice.error('E_PEER_OFFLINE');
    expect(error.ref).toBe('x1');
  });

  it('echoes chat and logs a short prefix of it (server-readable by design, not archived)', async () => {
    const alice = await hello('alice');
    const text = `hello server, ${'and a lot more '.repeat(10)}`;
    alice.send({ type: 'chat', text });
    expect(await alice.next((f) => f.type === 'server')).toEqual({
      type: 'server',
      text: `echo: ${text}`,
    });
    expect(t.logs.events('chat').map((r) => [r.textPrefix, r.length])).toEqual([
      [text.slice(0, 32), text.length],
    ]);
    expect(t.logs.text).not.toContain(text.slice(0, 40));
  });

  it('answers list with the directory', async () => {
    const alice = await hello('alice');
    alice.send({ type: 'list' });
    const users = await alice.next((f) => f.type === 'users');
    expect(Object.keys(users.users as object)).toEqual(['alice']);
  });

  it.each([
    ['garbage', 'not json at all\n', 'E_BAD_JSON'],
    ['array', '[1,2]\n', 'E_NOT_OBJECT'],
    ['unknown type', '{"type":"dance"}\n', 'E_UNKNOWN_TYPE'],
    ['bad nonce', `${JSON.stringify({ ...relay('bob'), nonce: 'AAAA' })}\n`, 'E_BAD_FIELD'],
    ['short cipher', `${JSON.stringify({ ...relay('bob'), cipher: 'AAAA' })}\n`, 'E_BAD_FIELD'],
    ['proto key', '{"type":"list","__proto__":{"x":1}}\n', 'E_FORBIDDEN_KEY'],
    ['invalid utf-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), 'E_BAD_UTF8'],
  ])('rejects %s after hello without disconnecting', async (_label, line, code) => {
    const alice = await hello('alice');
    const bob = await hello('bob');
    alice.send(line as string | Buffer);
    await alice.error(code);
    alice.send(relay('bob'));
    expect((await bob.next((f) => f.type === 'relay')).from).toBe('alice');
  });

  it('closes a connection whose first frame is not a hello', async () => {
    const bob = await hello('bob');
    const stranger = await raw();
    stranger.send(relay('bob'));
    await stranger.error('E_HELLO_REQUIRED');
    await stranger.closed;
    expect(bob.frames.filter((f) => f.type === 'relay')).toHaveLength(0);
  });

  it('closes on an oversized line before its newline arrives', async () => {
    await t.close();
    t = await startTestServer({ maxLineBytes: 2048 });
    const alice = await hello('alice');
    const bob = await hello('bob');
    alice.send('x'.repeat(4096)); // no newline
    await alice.error('E_FRAME_TOO_LONG');
    await alice.closed;
    const carol = await hello('carol');
    carol.send(relay('bob'));
    expect((await bob.next((f) => f.type === 'relay')).from).toBe('carol');
  });

  it('decodes frames split into single bytes, including multi-byte UTF-8', async () => {
    const alice = await hello('alice');
    const bytes = Buffer.from(`${JSON.stringify({ type: 'chat', text: 'héllo 👋' })}\n`);
    for (const byte of bytes) {
      alice.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    expect((await alice.next((f) => f.type === 'server')).text).toBe('echo: héllo 👋');
  });

  it('drops a silent connection after the hello timeout', async () => {
    await t.close();
    t = await startTestServer({ helloTimeoutMs: 200 });
    const silent = await raw();
    await silent.error('E_HELLO_TIMEOUT', 2000);
    await silent.closed;
  });

  it('drops a connection that never completes the TLS handshake', async () => {
    await t.close();
    t = await startTestServer({ handshakeTimeoutMs: 200 });
    const socket = netConnect({ host: '127.0.0.1', port: t.port });
    socket.on('error', () => {});
    socket.write(Buffer.from([0x16, 0x03, 0x01])); // a TLS record header, then nothing
    await new Promise((resolve) => socket.once('close', resolve));
    expect(t.logs.events('tls.failure').map((r) => r.reason)).toContain('handshake_timeout');
  });

  it('answers a plaintext HTTP request in plain text and counts it', async () => {
    const socket = netConnect({ host: '127.0.0.1', port: t.port });
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const reply = await new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('close', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(t.logs.events('plaintext.probe').map((r) => r.reason)).toContain('plaintext_http');
  });

  it('does not queue relays for a reader that stops reading; drops it once it stays stuck', async () => {
    await t.close();
    const clock = { now: 1_700_000_000_000 };
    t = await startTestServer(
      { maxSendQueueBytes: 64 * 1024, slowReaderGraceMs: 30_000, rateLimit: false },
      { now: () => clock.now },
    );
    const sender = await hello('sender');
    const sink = await hello('sink');
    sink.socket.pause(); // stops reading: the kernel buffers fill, then the server's queue
    const big = Buffer.alloc(8000, 1).toString('base64');
    let failed: Record<string, unknown> | undefined;
    for (let i = 0; i < 2000 && !failed; i++) {
      sender.send(relay('sink', { cipher: big, id: `b${i}` }));
      if (i % 50 === 49) {
        await sleep(5);
        failed = sender.frames.find((f) => f.type === 'error' && f.code === 'E_PEER_SLOW');
      }
    }
    failed ??= await sender.error('E_PEER_SLOW');
    expect(failed).toBeDefined();
    // Not reading for a moment is no crime: the sink is still online.
    expect(t.logs.events('slow_reader.dropped')).toHaveLength(0);
    // Stuck for longer than the grace while peers keep sending: now it is dropped.
    // (The kernel's socket buffers take megabytes before the sink is truly stuck.)
    const bigger = Buffer.alloc(45_000, 2).toString('base64');
    for (let i = 0; i < 1000 && t.logs.events('slow_reader.dropped').length === 0; i++) {
      clock.now += 30_001;
      sender.send(relay('sink', { cipher: bigger, id: `late${i}` }));
      await sender.next((f) => f.ref === `late${i}` || f.id === `late${i}`);
    }
    expect(t.logs.events('slow_reader.dropped')).toHaveLength(1);
    const other = await hello('other');
    other.send({ type: 'list' });
    const users = await other.next((f) => f.type === 'users' && !('sink' in (f.users as object)));
    expect(Object.keys(users.users as object)).not.toContain('sink');
  });
});
