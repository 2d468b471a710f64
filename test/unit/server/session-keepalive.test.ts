import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { toBase64 } from '../../../src/protocol/index.js';
import type { ServerCore } from '../../../src/server/compose.js';
import type { ServerConfig } from '../../../src/server/config.js';
import { FakeTransport } from '../../helpers/fake-transport.js';
import { socketlessServer } from '../../helpers/session-core.js';
import { newIdentity, v2Hello } from '../../helpers/v2-hello.js';

/** Counts the keepalive requests a session makes of its connection. */
class KeepAliveTransport extends FakeTransport {
  keepAlives = 0;
  keepAlive(): void {
    this.keepAlives++;
  }
}

const cores: ServerCore[] = [];
afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

async function server(overrides: Partial<ServerConfig> = {}) {
  const { core, connect } = await socketlessServer(
    overrides,
    (address, seed) => new KeepAliveTransport(address, seed),
  );
  cores.push(core);
  return connect;
}

/** Lets admission (a few store turns) finish: bounded. */
async function admitted(...sessions: Array<{ state: string }>): Promise<void> {
  for (let i = 0; i < 50 && sessions.some((s) => s.state !== 'ready'); i++)
    await new Promise((resolve) => setImmediate(resolve));
}

const v1 = (user: string) => () => ({ type: 'hello', user, pub: toBase64(Buffer.alloc(32, 1)) });
const v2 = (user: string) => (transport: FakeTransport) =>
  v2Hello(transport as unknown as TLSSocket, user, newIdentity());

describe('TCP keepalive, set per session after its hello (not on every connect)', () => {
  it('v1 sessions get it once admitted; v2 sessions (they ping) do not', async () => {
    const connect = await server();
    const a = connect(v1('alice'));
    const b = connect(v2('bob'));
    const refused = connect(v1('alice')); // name taken: never admitted
    await admitted(a.session, b.session);
    expect([a.session.state, b.session.state, refused.session.state]).toEqual([
      'ready',
      'ready',
      'awaiting-hello',
    ]);
    expect(a.transport.keepAlives).toBe(1);
    expect(b.transport.keepAlives).toBe(0);
    expect(refused.transport.keepAlives).toBe(0);
  });

  it('v2 sessions get it too when their idle timeout is off (nothing else finds a dead peer)', async () => {
    const connect = await server({ idleTimeoutMs: 0 });
    const b = connect(v2('bob'));
    await admitted(b.session);
    expect(b.session.state).toBe('ready');
    expect(b.transport.keepAlives).toBe(1);
  });
});
