import { Writable } from 'node:stream';
import { clockWith } from '../../src/server/clock.js';
import { composeServer, type ServerCore } from '../../src/server/compose.js';
import { defaultServerConfig, type ServerConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import type { Session } from '../../src/server/session.js';
import { SqliteStore } from '../../src/server/store/index.js';
import { FakeTransport } from './fake-transport.js';

/**
 * The daemon's composition root without its sockets (a quiet log, SQLite in memory, a fixed
 * clock): `connect` opens a session on a fresh {@link FakeTransport} (or `T`) and feeds it
 * the given hello in one read. Close the core after the test.
 */
export async function socketlessServer<T extends FakeTransport = FakeTransport>(
  overrides: Partial<ServerConfig> = {},
  makeTransport: (address: string, seed: string) => T = (address, seed) =>
    new FakeTransport(address, seed) as T,
): Promise<{
  core: ServerCore;
  connect(hello: (transport: T) => object): { session: Session; transport: T };
}> {
  const quiet = createLogger({
    level: 'silent',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const core = await composeServer({ ...defaultServerConfig, ...overrides }, quiet, {
    store: new SqliteStore(':memory:'),
    hasher: { hash: async (p: string) => p, verify: async () => false },
    clock: clockWith(() => 1_000_000),
  });
  let n = 0;
  return {
    core,
    connect(hello) {
      const transport = makeTransport(`10.0.0.${++n}`, `conn-${n}`);
      const session = core.openSession(transport);
      session.receive(Buffer.from(`${JSON.stringify(hello(transport))}\n`));
      return { session, transport };
    },
  };
}
