import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/index.js';
import { PeerDirectory } from '../../../src/server/directory.js';
import { createLogger } from '../../../src/server/logger.js';
import { PrekeyService } from '../../../src/server/prekey-service.js';
import { PresenceBroadcaster } from '../../../src/server/presence.js';
import { PasswordLockout } from '../../../src/server/rooms/lockout.js';
import { PasswordHasher } from '../../../src/server/rooms/password-hasher.js';
import { RoomService } from '../../../src/server/rooms/room-service.js';
import { RelayRouter } from '../../../src/server/router.js';
import { Session, type SessionContext } from '../../../src/server/session.js';
import { ServerStats } from '../../../src/server/stats.js';
import { SqliteStore } from '../../../src/server/store/index.js';
import type { Transport } from '../../../src/server/transport.js';

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));
const hasher = new PasswordHasher({ m: 64, t: 1, p: 1, dkLen: 32 });
afterAll(() => hasher.close());

/** A transport that records what the session writes and never throws. */
class FakeTransport implements Transport {
  readonly remote: string;
  readonly remoteAddress: string;
  written = '';
  ended = false;
  constructor(address: string) {
    this.remoteAddress = address;
    this.remote = `${address}:1`;
  }
  get writableLength() {
    return 0;
  }
  write(data: string | Uint8Array) {
    this.written += typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    return true;
  }
  end() {
    this.ended = true;
  }
  destroy() {
    this.ended = true;
  }
  lines(): Array<Record<string, unknown>> {
    return this.written
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

function context(): SessionContext {
  const store = new SqliteStore(':memory:');
  const stats = new ServerStats();
  const directory = new PeerDirectory<Session>();
  const logger = createLogger({
    level: 'silent',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const online = (name: string) => directory.get(name);
  return {
    directory,
    presence: new PresenceBroadcaster(directory, (task) => task()),
    router: new RelayRouter<Session>({
      online,
      store,
      stats,
      mailbox: { perRecipient: 10, perSender: 5, ttlMs: 60_000 },
    }),
    prekeys: new PrekeyService<Session>(store, online),
    rooms: new RoomService<Session>({
      store,
      hasher,
      lockout: new PasswordLockout({ attempts: 3, windowMs: 1000, lockMs: 1000 }),
      logger,
      stats,
      admins: new Set(),
      lobby: '#lobby',
    }),
    store,
    logger,
    stats,
    limits: { maxLineBytes: 4096, helloTimeoutMs: 60_000, maxSendQueueBytes: 1 << 20 },
    rateLimits: {
      framesPerSecond: 1000,
      frameBurst: 1000,
      bytesPerSecond: 1 << 20,
      byteBurst: 1 << 22,
      abuseLimit: 1000,
      abuseWindowMs: 10_000,
    },
  };
}

const PUB = Buffer.alloc(32, 5).toString('base64');
const valid: Array<Record<string, unknown>> = [
  { type: 'hello', user: 'fuzzer', pub: PUB },
  { type: 'list' },
  { type: 'chat', text: 'x' },
  { type: 'ping' },
  {
    type: 'relay',
    to: 'bob',
    alg: 'X25519+AESGCM',
    nonce: Buffer.alloc(12).toString('base64'),
    cipher: Buffer.alloc(16).toString('base64'),
    id: 'f1',
  },
  { type: 'bundle', user: 'bob', id: 'b1' },
  { type: 'prekeys', keys: [{ id: 1, pub: PUB }] },
  { type: 'fetched', upto: 3 },
  { type: 'join', room: '#lobby' },
  {
    type: 'roommsg',
    room: '#lobby',
    alg: 'SK1',
    header: 'AAAA',
    nonce: Buffer.alloc(12).toString('base64'),
    cipher: Buffer.alloc(16).toString('base64'),
    sig: Buffer.alloc(64).toString('base64'),
  },
  { type: 'moderate', room: '#lobby', action: 'kick', user: 'bob' },
];

/** A valid frame with one field dropped, retyped, oversized or replaced. */
const mutated = fc
  .tuple(
    fc.constantFrom(...valid),
    fc.nat(),
    fc.oneof(
      fc.constant(undefined),
      fc.integer(),
      fc.string({ maxLength: 300 }),
      fc.constant(1e308),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.object({ maxDepth: 2 }),
    ),
  )
  .map(([frame, pick, value]) => {
    const keys = Object.keys(frame);
    const key = keys[pick % keys.length]!;
    const copy: Record<string, unknown> = { ...frame };
    if (value === undefined) delete copy[key];
    else copy[key] = value;
    return `${JSON.stringify(copy)}\n`;
  });

const chunks = fc.oneof(
  mutated.map((line) => Buffer.from(line)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ maxLength: 100, unit: 'grapheme' }).map((s) => Buffer.from(`${s}\n`)),
  fc.constantFrom(...valid).map((f) => Buffer.from(`${JSON.stringify(f)}\n`)),
);

describe('session state machine under fuzzed input', () => {
  it('never throws, answers only with known codes, and a well-behaved pair keeps chatting', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(chunks, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat({ max: 7 }), { maxLength: 40 }),
        async (inputs, splits) => {
          const ctx = context();
          const alice = new FakeTransport('10.0.0.1');
          const bob = new FakeTransport('10.0.0.2');
          const fuzz = new FakeTransport('10.0.0.3');
          const a = new Session('a', alice, ctx);
          const b = new Session('b', bob, ctx);
          const f = new Session('f', fuzz, ctx);
          a.receive(Buffer.from(`${JSON.stringify({ type: 'hello', user: 'alice', pub: PUB })}\n`));
          b.receive(Buffer.from(`${JSON.stringify({ type: 'hello', user: 'bob', pub: PUB })}\n`));
          inputs.forEach((chunk, i) => {
            const cut = Math.min(chunk.length, splits[i] ?? chunk.length);
            expect(() => {
              f.receive(chunk.subarray(0, cut));
              f.receive(chunk.subarray(cut));
            }).not.toThrow();
            a.receive(Buffer.from(`${JSON.stringify({ ...valid[4], to: 'bob', id: `ok${i}` })}\n`));
          });
          await new Promise((resolve) => setImmediate(resolve));
          for (const line of fuzz.lines()) {
            if (line.type === 'error') expect(KNOWN_CODES.has(String(line.code))).toBe(true);
          }
          const delivered = bob
            .lines()
            .filter(
              (l) => l.type === 'relay' && l.from === 'alice' && String(l.id).startsWith('ok'),
            );
          expect(delivered).toHaveLength(inputs.length);
          for (const s of [a, b, f]) s.transportClosed();
          ctx.store.close();
        },
      ),
      { numRuns: 80 },
    );
  });
});
