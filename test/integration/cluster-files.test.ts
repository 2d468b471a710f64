import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterFixture } from '../helpers/cluster-fixture.js';
import { ALL_CAPS, loginV2 } from '../helpers/hostile.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity } from '../helpers/v2-hello.js';

/**
 * Files in a cluster: every node sees the same chunk directory, so a recipient on one node
 * downloads what the sender uploads through another, while the upload goes on, and an
 * uploader resumes through another node. Each node keeps what it read of a file in memory:
 * these tests fail when a node trusts what it read once (a download waits for chunks that
 * are long on disk; a resume is refused as a gap).
 */
const CAPS = [...ALL_CAPS, 'files'];
const CHUNK = 32 * 1024 + 16;
const chunk = (i: number) => Buffer.alloc(CHUNK, i + 1);

const fixture = clusterFixture();
const { nodes, clients } = fixture;

describe('file transfer across the nodes of a cluster (real Redis, real TLS)', () => {
  let dir: string;
  const identities = new Map<string, ReturnType<typeof newIdentity>>();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sc-cluster-files-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Two nodes of one chat sharing one chunk directory (a fresh one per test). */
  const twoNodes = async (name: string): Promise<[TestServer, TestServer]> => {
    const filesDir = join(dir, name);
    const url = `${fixture.redis.url}/0`;
    const started: TestServer[] = [];
    for (let i = 0; i < 2; i++) {
      const node = await startTestServer({ redis: url, clusterHeartbeatMs: 300, filesDir }, {});
      nodes.push(node);
      started.push(node);
    }
    return started as [TestServer, TestServer];
  };
  const login = async (node: TestServer, name: string): Promise<RawClient> => {
    if (!identities.has(name)) identities.set(name, newIdentity());
    const client = await loginV2(node, name, identities.get(name)!, { caps: CAPS });
    clients.push(client);
    return client;
  };
  const announce = async (alice: RawClient, id: string, chunks: number) => {
    alice.send({ type: 'fnew', id, bytes: chunks * CHUNK, chunks, to: 'bob' });
    return alice.next((x) => x.type === 'fok' && x.id === id);
  };
  const put = async (alice: RawClient, file: unknown, i: number) => {
    alice.send({ type: 'fput', file, i, data: chunk(i).toString('base64') });
    await alice.next((x) => x.type === 'fack' && x.file === file && x.have === i + 1);
  };
  const expectChunk = async (bob: RawClient, i: number) => {
    const got = await bob.next((x) => x.type === 'fchunk' && x.i === i, 5_000);
    expect(Buffer.from(got.data as string, 'base64').equals(chunk(i))).toBe(true);
  };

  it('a download held on node B goes on as the upload through node A stores chunks', async () => {
    const [a, b] = await twoNodes('held');
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    const ok = await announce(alice, 'x1', 3);
    await put(alice, ok.file, 0);
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 0, n: 3 });
    await expectChunk(bob, 0);
    await put(alice, ok.file, 1);
    await put(alice, ok.file, 2);
    await expectChunk(bob, 1);
    await expectChunk(bob, 2);
    await bob.sync();
    expect(bob.frames.filter((x) => x.type === 'error')).toEqual([]);
  });

  it('node B sees the chunks stored through node A since it first read the file', async () => {
    const [a, b] = await twoNodes('later');
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    const ok = await announce(alice, 'x2', 2);
    await put(alice, ok.file, 0);
    // node B reads the file now, with one chunk of two stored
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 0, n: 1 });
    await expectChunk(bob, 0);
    await bob.sync();
    await put(alice, ok.file, 1);
    // the upload is complete: chunk 1 comes at once
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 1, n: 1 });
    await expectChunk(bob, 1);
    await bob.sync();
    expect(bob.frames.filter((x) => x.type === 'error')).toEqual([]);
  });

  it('an uploader resumes through the other node where it left off', async () => {
    const [a, b] = await twoNodes('resume');
    const alice = await login(a, 'alice');
    const ok = await announce(alice, 'x3', 3);
    await put(alice, ok.file, 0);
    // node B reads the file while one chunk is stored (a recipient asks for its state)
    const bob = await login(b, 'bob');
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 0, n: 1 });
    await expectChunk(bob, 0);
    await put(alice, ok.file, 1);
    alice.close();
    const again = await login(b, 'alice');
    again.send({ type: 'fstat', file: ok.file });
    const state = await again.next((x) => x.type === 'fstate' && x.file === ok.file);
    expect(state.have).toBe(2);
    await put(again, ok.file, 2);
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 1, n: 2 });
    await expectChunk(bob, 1);
    await expectChunk(bob, 2);
    await bob.sync();
    expect(again.frames.filter((x) => x.type === 'error')).toEqual([]);
  });

  it('a download held on node B is refused when the uploader withdraws the file through node A', async () => {
    const [a, b] = await twoNodes('withdrawn');
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    const ok = await announce(alice, 'x4', 2);
    await put(alice, ok.file, 0);
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 0, n: 2 });
    await expectChunk(bob, 0);
    alice.send({ type: 'fdel', file: ok.file });
    const error = await bob.error('E_NO_SUCH_FILE', 5_000);
    expect(error.ref).toBe(ok.file);
    await bob.sync();
  });
});
