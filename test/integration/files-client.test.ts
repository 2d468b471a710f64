import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEvent, TransferEvent } from '../../src/client/events.js';
import {
  FILE_BINARY_CHUNK_BYTES,
  FILE_CHUNK_BYTES,
  type FileContent,
  toBase64,
} from '../../src/protocol/index.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const isTransfer =
  (phase: TransferEvent['phase'], name?: string) =>
  (e: ClientEvent): e is TransferEvent =>
    e.kind === 'transfer' && e.phase === phase && (name === undefined || e.name === name);

describe('file transfer between real clients over TLS', () => {
  let t: TestServer;
  let root: string;
  const chats: TestChat[] = [];
  const homes = new Map<string, string>();
  const chat = async (name: string, options: { autoAccept?: Map<string, number> } = {}) => {
    if (!homes.has(name)) homes.set(name, mkdtempSync(join(root, `${name}-`)));
    const home = homes.get(name)!;
    const c = await startChat(
      name,
      t.port,
      t.server.pin,
      home,
      {},
      {
        transfers: { downloadDir: join(home, 'dl'), ...options },
      },
    );
    chats.push(c);
    return c;
  };
  const file = (name: string, bytes: Buffer) => {
    const dir = mkdtempSync(join(root, 'src-'));
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const storeEntries = () => readdirSync(join(root, 'files'));

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sc-xfer-'));
    t = await startTestServer({
      filesDir: join(root, 'files'),
      lobby: '#lobby',
      maxFileBytes: 4 * 1024 * 1024,
    });
  });
  afterEach(async () => {
    for (const c of chats.splice(0)) await c.close();
  });
  afterAll(async () => {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  it.each([
    ['empty.txt', 0],
    ['one.bin', 1],
    ['exact.bin', 3 * FILE_CHUNK_BYTES],
    ['odd.bin', 5 * FILE_CHUNK_BYTES + 123],
  ])(
    'sends %s (%i bytes) directly: offer, /accept, digest-checked file saved 0600',
    async (name, size) => {
      const alice = await chat('alice');
      const bob = await chat('bob');
      const plain = Buffer.alloc(size);
      for (let i = 0; i < size; i += 64) plain.write(`plaintext marker ${i} `.padEnd(64, '.'), i);
      const path = file(name, plain);
      expect(await alice.client.transfers!.send('bob', path)).toBe(true);
      const offer = (await bob.waitFor(isTransfer('offer', name))) as TransferEvent;
      expect(offer).toMatchObject({ peer: 'alice', size, direction: 'down' });
      await alice.waitFor(isTransfer('done', name));
      // The chunk store holds only ciphertext.
      for (const entry of storeEntries()) {
        const bytes = readFileSync(join(root, 'files', entry));
        expect(bytes.includes(Buffer.from('plaintext marker'))).toBe(false);
      }
      expect(await bob.client.transfers!.accept(offer.id)).toBe(true);
      const done = (await bob.waitFor(isTransfer('done', name))) as TransferEvent;
      expect(done.path).toBe(join(homes.get('bob')!, 'dl', name));
      expect(readFileSync(done.path!).equals(plain)).toBe(true);
      expect(statSync(done.path!).mode & 0o777).toBe(0o600);
      expect(readdirSync(dirname(done.path!)).filter((n) => n.endsWith('.part'))).toEqual([]);
      await bob.sync();
      await alice.sync();
    },
  );

  it('moves chunks as raw bytes both ways (fbin): the server reads and writes about the sealed size, not Base64', async () => {
    const alice = await chat('alice');
    const bob = await chat('bob');
    const size = 32 * FILE_CHUNK_BYTES;
    const plain = Buffer.alloc(size, 7);
    const path = file('raw.bin', plain);
    const inBefore = t.server.stats.bytesIn;
    expect(await alice.client.transfers!.send('bob', path)).toBe(true);
    const offer = (await bob.waitFor(isTransfer('offer', 'raw.bin'))) as TransferEvent;
    await alice.waitFor(isTransfer('done', 'raw.bin'));
    const uploaded = t.server.stats.bytesIn - inBefore;
    const outBefore = t.server.stats.bytesOut;
    expect(await bob.client.transfers!.accept(offer.id)).toBe(true);
    const done = (await bob.waitFor(isTransfer('done', 'raw.bin'))) as TransferEvent;
    expect(readFileSync(done.path!).equals(plain)).toBe(true);
    const downloaded = t.server.stats.bytesOut - outBefore;
    // Base64 in JSON would be over 4/3 of the size each way
    expect(uploaded).toBeGreaterThan(size);
    expect(uploaded).toBeLessThan(1.1 * size);
    expect(downloaded).toBeGreaterThan(size);
    expect(downloaded).toBeLessThan(1.1 * size);
    await bob.sync();
    await alice.sync();
  });

  it('offers the file while it is still being uploaded, and the recipient downloads alongside', async () => {
    const alice = await chat('alice');
    const bob = await chat('bob');
    const plain = randomBytes(40 * FILE_CHUNK_BYTES + 5);
    const send = alice.client.sendFileOffer.bind(alice.client);
    const statesAtOffer: string[] = [];
    alice.client.sendFileOffer = (target: string, c: FileContent) => {
      const record = alice.client.transfers!.find(c.tid.slice(0, 6), [
        'announcing',
        'uploading',
        'offering',
        'done',
      ]);
      statesAtOffer.push(typeof record === 'string' ? record : record.state);
      return send(target, c);
    };
    expect(await alice.client.transfers!.send('bob', file('early.bin', plain))).toBe(true);
    const offer = (await bob.waitFor(isTransfer('offer', 'early.bin'))) as TransferEvent;
    expect(await bob.client.transfers!.accept(offer.id)).toBe(true);
    const done = (await bob.waitFor(isTransfer('done', 'early.bin'))) as TransferEvent;
    expect(readFileSync(done.path!).equals(plain)).toBe(true);
    await alice.waitFor(isTransfer('done', 'early.bin'));
    // one offer, sent while the upload was under way (before: only once it had finished)
    expect(statesAtOffer).toEqual(['uploading']);
    alice.client.sendFileOffer = send;
  });

  it('never overwrites: the same name twice lands as "name (1)"', async () => {
    const alice = await chat('alice');
    const bob = await chat('bob', { autoAccept: new Map([['alice', 1024]]) });
    const paths: string[] = [];
    for (const body of ['first', 'second']) {
      await alice.client.transfers!.send('bob', file('same.txt', Buffer.from(body)));
      const before = bob.events.filter(isTransfer('done')).length;
      await bob.waitFor(() => bob.events.filter(isTransfer('done')).length > before);
      paths.push((bob.events.filter(isTransfer('done')).at(-1) as TransferEvent).path!);
    }
    expect(paths.map((p) => basename(p))).toEqual(['same.txt', 'same (1).txt']);
    expect(readFileSync(paths[0]!, 'utf8')).toBe('first');
    expect(readFileSync(paths[1]!, 'utf8')).toBe('second');
  });

  it.each([
    ['../../.bashrc', 'bashrc'],
    ['CON', '_CON'],
    ['a\u202egpj.exe', 'agpj.exe'],
    ['x'.repeat(10_000), `${'x'.repeat(200)}`],
  ])('a hostile name %j lands safely inside the download directory', async (hostile, saved) => {
    const alice = await chat('alice');
    const bob = await chat('bob');
    // alice's client is the hostile one here: it lies about the name in the descriptor.
    const send = alice.client.sendFileOffer.bind(alice.client);
    alice.client.sendFileOffer = (target: string, content: FileContent) =>
      send(target, { ...content, name: hostile });
    await alice.client.transfers!.send('bob', file('innocent.txt', Buffer.from('payload')));
    const offer = (await bob.waitFor(isTransfer('offer', hostile))) as TransferEvent;
    await bob.client.transfers!.accept(offer.id);
    const done = (await bob.waitFor(isTransfer('done', hostile))) as TransferEvent;
    const dl = join(homes.get('bob')!, 'dl');
    expect(dirname(done.path!)).toBe(dl);
    expect(basename(done.path!).startsWith(saved.slice(0, 150))).toBe(true);
    expect(readFileSync(done.path!, 'utf8')).toBe('payload');
    expect(existsSync(join(homes.get('bob')!, '.bashrc'))).toBe(false);
  });

  it('a wrong digest, a tampered chunk, a replayed chunk and a truncated file are detected and nothing is kept', async () => {
    const alice = await chat('alice');
    const bob = await chat('bob');
    const dl = join(homes.get('bob')!, 'dl');
    const fail = async (
      name: string,
      damage: (chunks: string) => void,
      content?: Partial<FileContent>,
    ) => {
      const send = alice.client.sendFileOffer.bind(alice.client);
      let file_ = '';
      alice.client.sendFileOffer = (target: string, c: FileContent) => {
        file_ = c.file;
        return send(target, { ...c, ...content });
      };
      const data = Buffer.alloc(3 * FILE_CHUNK_BYTES, name);
      await alice.client.transfers!.send('bob', file(name, data));
      const offer = (await bob.waitFor(isTransfer('offer', name))) as TransferEvent;
      // the offer comes during the upload: damage the store once it is all there
      await alice.waitFor(isTransfer('done', name));
      damage(join(root, 'files', `${file_}.chunks`));
      await bob.client.transfers!.accept(offer.id);
      const failed = (await bob.waitFor(isTransfer('failed', name))) as TransferEvent;
      expect(existsSync(join(dl, name))).toBe(false);
      expect(readdirSync(dl).filter((n) => n.endsWith('.part'))).toEqual([]);
      alice.client.sendFileOffer = send;
      return failed;
    };
    const wrongDigest = await fail('digest.bin', () => undefined, {
      digest: toBase64(randomBytes(32)),
    });
    expect(wrongDigest.reason).toMatch(/digest/);
    const flip = (path: string) => {
      const bytes = readFileSync(path);
      bytes[FILE_CHUNK_BYTES + 100]! ^= 1;
      writeFileSync(path, bytes);
    };
    expect(await fail('tampered.bin', flip)).toMatchObject({ code: 'E_DECRYPT_FAILED' });
    const replay = (path: string) => {
      const bytes = readFileSync(path);
      const full = FILE_CHUNK_BYTES + 16;
      bytes.copy(bytes, full, 0, full); // chunk 0 again in place of chunk 1
      writeFileSync(path, bytes);
    };
    expect(await fail('replayed.bin', replay)).toMatchObject({ code: 'E_DECRYPT_FAILED' });
    const truncate = (path: string) =>
      writeFileSync(path, readFileSync(path).subarray(0, 2 * (FILE_CHUNK_BYTES + 16)));
    const truncated = await fail('truncated.bin', truncate);
    expect(truncated.reason).toMatch(/refused/);
  });

  it('sends to a room of three: each member accepts; the file leaves the store once both have it', async () => {
    const [alice, bob, carol] = [await chat('alice'), await chat('bob'), await chat('carol')];
    for (const c of [alice, bob, carol]) {
      c.client.rooms.join('#club');
      await c.waitFor((e) => e.kind === 'room' && e.event === 'joined' && e.room === '#club');
    }
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'join' && e.user === 'carol');
    const plain = randomBytes(2 * FILE_CHUNK_BYTES + 5);
    const before = storeEntries().length;
    await alice.client.transfers!.send('#club', file('room.bin', plain));
    for (const member of [bob, carol]) {
      const offer = (await member.waitFor(isTransfer('offer', 'room.bin'))) as TransferEvent;
      expect(offer).toMatchObject({ peer: 'alice', room: '#club' });
      await member.client.transfers!.accept(offer.id);
      const done = (await member.waitFor(isTransfer('done', 'room.bin'))) as TransferEvent;
      expect(readFileSync(done.path!).equals(plain)).toBe(true);
    }
    await carol.sync();
    await bob.sync();
    expect(storeEntries().length).toBe(before);
  });

  it('an offline recipient gets the offer from the mailbox and fetches the file when back', async () => {
    const bob = await chat('bob');
    await bob.close();
    chats.splice(chats.indexOf(bob), 1);
    const alice = await chat('alice');
    const plain = randomBytes(FILE_CHUNK_BYTES + 1);
    await alice.client.transfers!.send('bob', file('later.bin', plain));
    await alice.waitFor(isTransfer('done', 'later.bin'));
    const back = await chat('bob');
    const offer = (await back.waitFor(isTransfer('offer', 'later.bin'))) as TransferEvent;
    await back.client.transfers!.accept(offer.id);
    const done = (await back.waitFor(isTransfer('done', 'later.bin'))) as TransferEvent;
    expect(readFileSync(done.path!).equals(plain)).toBe(true);
  });

  it('a download resumes after the client stops midway, fetching only what it lacked', async () => {
    const alice = await chat('alice');
    let bob = await chat('bob');
    // binary mode: 256 KiB chunks (the resumed download keeps the descriptor's chunk size)
    const CS = FILE_BINARY_CHUNK_BYTES;
    const plain = randomBytes(14 * CS); // (the test server takes at most 4 MiB)
    expect(await alice.client.transfers!.send('bob', file('big.bin', plain))).toBe(true);
    const offer = (await bob.waitFor(isTransfer('offer', 'big.bin'))) as TransferEvent;
    await bob.client.transfers!.accept(offer.id);
    const dl = join(homes.get('bob')!, 'dl');
    const part = () => readdirSync(dl).find((n) => n.endsWith('.part'));
    // Bob's client stops taking chunks after the 4th (as if killed there).
    const manager = bob.client.transfers!;
    const take = manager.chunk.bind(manager);
    let seen = 0;
    manager.chunk = (frame) => {
      if (++seen <= 4) take(frame);
    };
    await bob.waitFor(() => seen > 4);
    await bob.close();
    chats.splice(chats.indexOf(bob), 1);
    const written = statSync(join(dl, part()!)).size;
    expect(written).toBeGreaterThan(0);
    bob = await chat('bob');
    const done = (await bob.waitFor(isTransfer('done', 'big.bin'), 20_000)) as TransferEvent;
    expect(readFileSync(done.path!).equals(plain)).toBe(true);
    const fetched = bob.frames.filter((f) => f.type === 'fchunk').length;
    expect(written).toBeLessThan(14 * CS);
    expect(fetched).toBeLessThanOrEqual(14 - Math.floor(written / CS) + 1);
  });

  it('an upload resumes after the sender stops midway: the server keeps what it had', async () => {
    let alice = await chat('alice');
    const bob = await chat('bob');
    // binary mode: 256 KiB chunks, and not a multiple of them
    const plain = randomBytes(15 * FILE_BINARY_CHUNK_BYTES + 9); // (under the 4 MiB limit)
    // Alice's client stops taking acks after the 5th (as if killed there).
    const manager = alice.client.transfers!;
    const ack = manager.ack.bind(manager);
    let acks = 0;
    manager.ack = (frame) => {
      if (++acks <= 5) ack(frame);
    };
    await manager.send('bob', file('up.bin', plain));
    await alice.waitFor(() => acks > 5);
    await alice.close();
    chats.splice(chats.indexOf(alice), 1);
    alice = await chat('alice');
    const state = (await alice.waitForFrame((f) => f.type === 'fstate')) as { have: number };
    expect(state.have).toBeGreaterThanOrEqual(5);
    expect(state.have).toBeLessThan(16);
    await alice.waitFor(isTransfer('done', 'up.bin'), 20_000);
    // the server kept the record's chunk size across the resume (offsets come from it)
    const records = storeEntries()
      .filter((n) => n.endsWith('.json'))
      .map((n) => JSON.parse(readFileSync(join(root, 'files', n), 'utf8')) as { bytes: number });
    expect(records).toContainEqual(
      expect.objectContaining({
        bytes: plain.length + 16 * 16,
        chunkBytes: FILE_BINARY_CHUNK_BYTES,
      }),
    );
    const offer = (await bob.waitFor(isTransfer('offer', 'up.bin'))) as TransferEvent;
    await bob.client.transfers!.accept(offer.id);
    const done = (await bob.waitFor(isTransfer('done', 'up.bin'))) as TransferEvent;
    expect(readFileSync(done.path!).equals(plain)).toBe(true);
  });

  it('a file over the server limit fails with a clear error', async () => {
    const alice = await chat('alice');
    mkdirSync(join(root, 'big'), { recursive: true });
    const path = join(root, 'big', 'huge.bin');
    writeFileSync(path, Buffer.alloc(4 * 1024 * 1024 + 1));
    const stored = storeEntries().length;
    // the welcome said the server's limit: refused at once, before hashing or announcing
    expect(await alice.client.transfers!.send('bob', path)).toMatch(
      /^huge\.bin \(4\.2 MB\) is larger than this server takes \(4\.2 MB\)$/,
    );
    expect(storeEntries().length).toBe(stored);
    await alice.sync();
    // (a server that does not say its limit refuses the announce: E_FILE_TOO_BIG, files-server)
  });
});
