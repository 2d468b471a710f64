import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ALL_CAPS, loginV2 } from './hostile.js';
import { type RawClient, TestClock } from './raw-client.js';
import { startTestServer, type TestServer } from './server.js';
import { newIdentity } from './v2-hello.js';

/** Chunk store limits no test reaches (1 GiB everywhere, one minute to live). */
export const ROOMY_STORE_LIMITS = {
  maxFileBytes: 1 << 30,
  perIdentityBytes: 1 << 30,
  totalBytes: 1 << 30,
  ttlMs: 60_000,
};

/** Capabilities of a client in binary chunk mode, and of one that speaks JSON lines only. */
export const FBIN = [...ALL_CAPS, 'files', 'fbin'];
export const JSON_ONLY = [...ALL_CAPS, 'files'];

/** What a file-transfer test file over real TLS shares (see filesFixture). */
export interface FilesFixture {
  /** Started before the file's first test, with its chunk store under `dir`/files. */
  readonly t: TestServer;
  readonly dir: string;
  /** The server's clock (moved by the tests). */
  readonly clock: TestClock;
  /** Closed after each test. */
  readonly clients: RawClient[];
  /** One identity per name, kept across the file's tests. */
  who(name: string): ReturnType<typeof newIdentity>;
  /** A v2 login of `name` with `caps` (FBIN by default), closed after the test. */
  login(name: string, caps?: string[]): Promise<RawClient>;
}

/**
 * One server with a chunk store in a temporary directory for the calling test file
 * (started before its tests, closed and removed after them); clients close after each test.
 */
export function filesFixture(prefix: string): FilesFixture {
  const clock = new TestClock();
  const clients: RawClient[] = [];
  const identities = new Map<string, ReturnType<typeof newIdentity>>();
  let server: TestServer | undefined;
  let dir: string | undefined;
  const fixture: FilesFixture = {
    get t() {
      if (!server) throw new Error('the files fixture starts its server in beforeAll');
      return server;
    },
    get dir() {
      if (!dir) throw new Error('the files fixture makes its directory in beforeAll');
      return dir;
    },
    clock,
    clients,
    who(name) {
      if (!identities.has(name)) identities.set(name, newIdentity());
      return identities.get(name)!;
    },
    async login(name, caps = FBIN) {
      const client = await loginV2(fixture.t, name, fixture.who(name), { caps });
      clients.push(client);
      return client;
    },
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    server = await startTestServer(
      { filesDir: join(dir, 'files'), idleTimeoutMs: 60_000 },
      { now: clock.now },
    );
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return fixture;
}
