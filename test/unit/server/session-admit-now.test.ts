import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, toBase64 } from '../../../src/protocol/index.js';
import type { ServerCore } from '../../../src/server/compose.js';
import type { FakeTransport } from '../../helpers/fake-transport.js';
import { socketlessServer } from '../../helpers/session-core.js';
import { newIdentity, v2Hello } from '../../helpers/v2-hello.js';

const cores: ServerCore[] = [];
afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

async function server() {
  const { core, connect } = await socketlessServer();
  cores.push(core);
  return { core, connect };
}

const v1 = (user: string) => () => ({ type: 'hello', user, pub: toBase64(Buffer.alloc(32, 1)) });
const v2 = (user: string) => (transport: FakeTransport) =>
  v2Hello(transport as unknown as TLSSocket, user, newIdentity());
const frames = (transport: FakeTransport) =>
  transport.written.flatMap((w) => w.split('\n').filter(Boolean)).map((l) => JSON.parse(l));

/**
 * A v1 hello on a lone server with SQLite is admitted and welcomed in the turn its line
 * arrives (admission.ts `admitV1Now`): no promise, no store turn, most of a connect storm.
 */
describe('v1 admission in one turn', () => {
  it('is ready, in the directory and welcomed before receive() returns', async () => {
    const { core, connect } = await server();
    const alice = connect(v1('alice'));
    expect(alice.session.state).toBe('ready');
    expect(core.context.directory.get('alice')).toBe(alice.session);
    expect(frames(alice.transport)).toEqual([
      expect.objectContaining({
        type: 'welcome',
        users: expect.objectContaining({ alice: expect.any(String) }),
      }),
    ]);
  });

  it('a connection that floods hellos for a taken name in one read is cut off; the holder stays', async () => {
    // Nothing waits between hellos any more: the per-connection limits must still apply.
    const { core, connect } = await server();
    const owner = connect(v1('alice'));
    const hello = JSON.stringify(v1('alice')());
    const flood = connect(() => JSON.parse(hello));
    flood.session.receive(Buffer.from(`${hello}\n`.repeat(2000)));
    const refusals = frames(flood.transport).filter((f) => f.type === 'error');
    expect(refusals.length).toBeLessThan(1000);
    expect(refusals.at(-1)?.code).toBe(ErrorCode.RATE_LIMITED);
    expect(flood.session.state).toBe('closed');
    expect(core.context.directory.get('alice')).toBe(owner.session);
    expect(owner.session.state).toBe('ready');
  });

  it('is refused in that turn too: a name online, a name bound to an identity', async () => {
    const { connect } = await server();
    connect(v1('alice'));
    const second = connect(v1('alice'));
    expect(second.session.state).toBe('awaiting-hello');
    expect(frames(second.transport)).toEqual([
      expect.objectContaining({ type: 'error', code: ErrorCode.NAME_TAKEN }),
    ]);
    const bob = connect(v2('bob')); // v2: its proof is checked and its name claimed, awaited
    expect(bob.session.state).toBe('awaiting-hello');
    for (let i = 0; i < 50 && bob.session.state !== 'ready'; i++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(bob.session.state).toBe('ready');
    bob.session.transportClosed();
    const impostor = connect(v1('bob'));
    expect(frames(impostor.transport)).toEqual([
      expect.objectContaining({ type: 'error', code: ErrorCode.IDENTITY_REQUIRED }),
    ]);
  });
});
