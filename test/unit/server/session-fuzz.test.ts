import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/index.js';
import { clockWith } from '../../../src/server/clock.js';
import { composeServer, type ServerCore } from '../../../src/server/compose.js';
import { defaultServerConfig } from '../../../src/server/config.js';
import { createLogger } from '../../../src/server/logger.js';
import { PasswordHasher } from '../../../src/server/rooms/password-hasher.js';
import type { Session, SessionContext } from '../../../src/server/session.js';
import { SqliteStore } from '../../../src/server/store/index.js';
import { FakeTransport } from '../../helpers/fake-transport.js';
import { newIdentity, type TestIdentity, v2Hello } from '../../helpers/v2-hello.js';

/**
 * Drives the session state machine directly (no sockets) with random and mutated input
 * while a well-behaved pair keeps exchanging relays through the same directory, router,
 * rooms and store. Bounded by default; replay or widen with
 *   FUZZ_SEED=<seed printed on failure> FUZZ_RUNS=2000 npx vitest run <this file>
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const LINE_LIMIT = 4096;
const STEP_MS = 100;

/** Codes the server may put on the wire (the client-only ones never leave a client). */
const CLIENT_ONLY = new Set<string>([
  ErrorCode.DECRYPT_FAILED,
  ErrorCode.RATCHET_TOO_MANY_SKIPPED,
  ErrorCode.RATCHET_DUPLICATE,
  ErrorCode.RATCHET_NO_SESSION,
  ErrorCode.RATCHET_UNKNOWN_PREKEY,
  ErrorCode.BAD_KEY,
]);
const SERVER_CODES = new Set<string>(
  Object.values(ErrorCode).filter((code) => !CLIENT_ONLY.has(code)),
);

/** The real hasher, with a way to wait until no hash is in flight (rooms hash asynchronously). */
class TrackedHasher extends PasswordHasher {
  readonly inFlight = new Set<Promise<unknown>>();
  #track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
  override hash(password: string): Promise<string> {
    return this.#track(super.hash(password));
  }
  override verify(password: string, phc: string): Promise<boolean> {
    return this.#track(super.verify(password, phc));
  }
  async settle(): Promise<void> {
    for (let i = 0; i < 100 && this.inFlight.size > 0; i++) {
      await Promise.allSettled([...this.inFlight]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

interface World {
  core: ServerCore;
  ctx: SessionContext<Session>;
  hasher: TrackedHasher;
  clock: { now: number };
  internalErrors: string[];
  abuse: string[];
}

async function world(): Promise<World> {
  const store = new SqliteStore(':memory:');
  const internalErrors: string[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const text = chunk.toString('utf8');
        if (text.includes('"internal_error"')) internalErrors.push(text);
        callback();
      },
    }),
  });
  const clock = { now: 1_000_000 };
  const now = () => clock.now;
  const hasher = new TrackedHasher({ m: 64, t: 1, p: 1, dkLen: 32 });
  const abuse: string[] = [];
  const config = {
    ...defaultServerConfig,
    maxLineBytes: LINE_LIMIT,
    helloTimeoutMs: 60_000,
    mailboxPerRecipient: 10,
    mailboxPerSender: 5,
    mailboxTtlMs: 60_000,
    roomPasswordAttempts: 3,
    roomPasswordWindowMs: 60_000,
    roomLockoutMs: 60_000,
    lobby: '#lobby',
    framesPerSecond: 20,
    frameBurst: 40,
    bytesPerSecond: 64 * 1024,
    byteBurst: 3 * LINE_LIMIT,
    abuseLimit: 30,
  };
  // The same composition root the daemon uses, without its sockets.
  const core = await composeServer(config, logger, { store, hasher, clock: clockWith(now) });
  const ctx = core.context;
  ctx.onAbuse = (report) => abuse.push(report.reason);
  return { core, ctx, hasher, clock, internalErrors, abuse };
}

const IDENTITIES: TestIdentity[] = [newIdentity(), newIdentity(), newIdentity()];
const PUB = Buffer.alloc(32, 5).toString('base64');
const b64 = (bytes: number, fill = 1) => Buffer.alloc(bytes, fill).toString('base64');
const line = (frame: object) => Buffer.from(`${JSON.stringify(frame)}\n`);

/** One valid example of every client frame (v1, v2 ratchet and mailbox, rooms). */
const VALID: Array<Record<string, unknown>> = [
  { type: 'hello', user: 'fuzzer', pub: PUB },
  { type: 'list' },
  { type: 'chat', text: 'hi' },
  { type: 'ping' },
  {
    type: 'relay',
    to: 'bob',
    alg: 'X25519+AESGCM',
    nonce: b64(12),
    cipher: b64(16),
    id: 'f1',
    from: 'alice',
  },
  {
    type: 'relay',
    to: 'alice',
    alg: 'X3DH+DR+AESGCM',
    header: b64(42),
    nonce: b64(12),
    cipher: b64(40),
    id: 'f2',
  },
  { type: 'bundle', user: 'bob', id: 'b1' },
  { type: 'prekeys', keys: [{ id: 1, pub: PUB }], replace: true },
  { type: 'fetched', upto: 3 },
  { type: 'join', room: '#lobby' },
  { type: 'join', room: '#club', password: 'pw', id: 'j1' },
  { type: 'part', room: '#lobby' },
  { type: 'rooms' },
  { type: 'who', room: '#lobby' },
  { type: 'topic', room: '#club', text: 'hello' },
  { type: 'motd', text: 'be nice' },
  { type: 'moderate', room: '#lobby', action: 'kick', user: 'bob', id: 'm1' },
  { type: 'moderate', room: '#club', action: 'ban', user: 'alice', duration: 60, reason: 'x' },
  { type: 'moderate', room: '#club', action: 'password', password: 'pw', id: 'm2' },
  {
    type: 'roommsg',
    room: '#lobby',
    alg: 'SK1+AESGCM+ED25519',
    header: b64(12),
    nonce: b64(12),
    cipher: b64(16),
    sig: b64(64),
    id: 'r1',
  },
  // files (this server has no chunk store: parsed, then refused without a crash)
  { type: 'fnew', id: 'f1', bytes: 16, chunks: 1, to: 'bob' },
  { type: 'fnew', id: 'f2', bytes: 40, chunks: 1, room: '#lobby' },
  { type: 'fput', file: '0123456789abcdef0123456789abcdef', i: 0, data: b64(16) },
  { type: 'fstat', file: '0123456789abcdef0123456789abcdef' },
  { type: 'fget', file: '0123456789abcdef0123456789abcdef', cap: b64(32), i: 0, n: 4 },
  { type: 'fdone', file: '0123456789abcdef0123456789abcdef', cap: b64(32) },
  { type: 'fdel', file: '0123456789abcdef0123456789abcdef' },
];

const DROP = Symbol('drop');
/** A replacement value: retyped, huge, oversized, hostile or unicode. */
const replacement = fc.oneof(
  fc.constant(DROP),
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1, 0, 2 ** 53 + 2, -(2 ** 63), 0.5),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.string({ maxLength: 40, unit: 'grapheme' }),
  fc.constantFrom('alice', 'ALICE', 'bob', 'аlice', 'bob\u202e', '#lobby', '#LOBBY', '', ' '),
  fc.constantFrom('x'.repeat(100), 'A'.repeat(1500), 'A'.repeat(LINE_LIMIT + 10)),
  fc.constantFrom(b64(11), b64(13), b64(32), `${b64(12)}=`, 'AAAA!', '===='),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxLength: 4 }),
  fc.object({ maxDepth: 3, maxKeys: 4 }),
  fc.constant({ __proto__: null, constructor: { prototype: 1 } }),
);

/** Textual mutations JSON.stringify cannot produce. */
const rawEdit = fc.constantFrom(
  (s: string) => s.replace(/:(\d+)/, ':1e400'),
  (s: string) => s.replace(/:(\d+)/, ':123456789012345678901234567890'),
  (s: string) => s.replace(/:(\d+)/, ':-0'),
  (s: string) => s.replace('{', '{"__proto__":{"polluted":1},'),
  (s: string) => s.replace('{', '{"a":{"b":{"prototype":{}}},'),
  (s: string) => s.replace('{', `{"deep":${'['.repeat(50)}${']'.repeat(50)},`),
  (s: string) => s.replace('"type"', '"type":"chat","type"'),
  (s: string) => s.replace('}', ',}'),
  (s: string) => s.slice(0, Math.max(1, s.length >> 1)),
  (s: string) => `\ufeff${s}`,
  (s: string) => `${s}\r`,
  (s: string) => s.replace(/"/, '\u201c'),
);

const mutatedLine = fc
  .tuple(fc.constantFrom(...VALID), fc.nat(), replacement, fc.option(rawEdit, { nil: undefined }))
  .map(([frame, pick, value, edit]) => {
    const keys = Object.keys(frame);
    const key = keys[pick % keys.length]!;
    const copy: Record<string, unknown> = { ...frame };
    if (value === DROP) delete copy[key];
    else copy[key] = value;
    const text = JSON.stringify(copy);
    return Buffer.from(`${edit ? edit(text) : text}\n`);
  });

const inputLine = fc.oneof(
  { weight: 5, arbitrary: mutatedLine },
  { weight: 3, arbitrary: fc.constantFrom(...VALID).map(line) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 100, unit: 'grapheme' }).map((s) => Buffer.from(`${s}\n`)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Buffer.from([0xff, 0xfe, 0x0a]),
      Buffer.from([0xe2, 0x82, 0x0a]), // UTF-8 cut short
      Buffer.from([0xed, 0xa0, 0x80, 0x0a]), // encoded surrogate
      Buffer.from('\n\n\r\n'),
      Buffer.from(`{"type":"chat","text":"${'é'.repeat(3000)}"}\n`), // over the limit in bytes
      Buffer.from('a'.repeat(LINE_LIMIT + 1)), // no newline: fatal once over the limit
    ),
  },
);

const step = fc.record({
  /** How a new fuzz connection starts when the previous one was closed. */
  greet: fc.constantFrom('none', 'v1', 'v2', 'v2'),
  lines: fc.array(inputLine, { minLength: 1, maxLength: 6 }),
  /** Where the step's bytes are cut into separate `receive` calls. */
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
});

/** Lets the sessions' store work (async, resolved at once by SQLite) run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function cut(bytes: Buffer, cuts: number[]): Buffer[] {
  if (bytes.length === 0) return [bytes];
  const offsets = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const offset of offsets) {
    pieces.push(bytes.subarray(start, offset));
    start = offset;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

const relayLine = (to: string, id: string) =>
  line({ type: 'relay', to, alg: 'X25519+AESGCM', nonce: b64(12), cipher: b64(24, 7), id });

describe('session state machine under fuzzed input', () => {
  it(
    'never throws, writes only well-formed frames with known codes, and a well-behaved pair keeps chatting',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
          const w = await world();
          const { ctx } = w;
          const transports: FakeTransport[] = [];
          const sessions: Session[] = [];
          const open = (address: string) => {
            const transport = new FakeTransport(address, `conn${transports.length}`);
            const session = w.core.openSession(transport);
            transports.push(transport);
            sessions.push(session);
            return { transport, session };
          };
          const feed = (session: Session, bytes: Buffer) =>
            expect(() => session.receive(bytes)).not.toThrow();

          // The well-behaved pair: alice (v1) and bob (v2 with every capability).
          const alice = open('10.0.0.1');
          const bob = open('10.0.0.2');
          feed(alice.session, line({ type: 'hello', user: 'alice', pub: PUB }));
          feed(
            bob.session,
            line(
              v2Hello(bob.transport as unknown as TLSSocket, 'bob', IDENTITIES[0]!, [
                'presence',
                'ack',
                'ping',
                'ratchet',
                'mailbox',
                'rooms',
              ]),
            ),
          );
          await settle();
          expect(alice.session.state).toBe('ready');
          expect(bob.session.state).toBe('ready');

          let fuzz: ReturnType<typeof open> | undefined;
          let fuzzers = 0;
          for (const [i, { greet, lines, cuts }] of steps.entries()) {
            w.clock.now += STEP_MS;
            if (!fuzz || fuzz.session.state === 'closed') {
              fuzz = open(`10.0.1.${fuzzers % 250}`);
              const name = `fz${fuzzers++}`;
              if (greet === 'v1') feed(fuzz.session, line({ type: 'hello', user: name, pub: PUB }));
              if (greet === 'v2') {
                const who = IDENTITIES[1 + (fuzzers % 2)]!;
                feed(
                  fuzz.session,
                  line(
                    v2Hello(fuzz.transport as unknown as TLSSocket, name, who, [
                      'presence',
                      'ack',
                      'ratchet',
                      'mailbox',
                      'rooms',
                    ]),
                  ),
                );
              }
            }
            for (const piece of cut(Buffer.concat(lines), cuts)) feed(fuzz.session, piece);
            await settle();
            // A session is closed exactly when it told its transport to close.
            expect(fuzz.session.state === 'closed').toBe(fuzz.transport.closedBy !== undefined);
            feed(alice.session, relayLine('bob', `ok${i}`));
            feed(bob.session, relayLine('alice', `back${i}`));
            await settle();
          }
          await w.hasher.settle();

          for (const transport of transports) {
            for (const frame of transport.frames()) {
              if (frame.type !== 'error') continue;
              expect(SERVER_CODES).toContain(frame.code);
              expect(frame.code).not.toBe(ErrorCode.INTERNAL);
            }
          }
          expect(w.internalErrors).toEqual([]);
          const ids = steps.map((_, i) => i);
          const aliceGot = alice.transport.frames();
          const bobGot = bob.transport.frames();
          expect(
            bobGot.flatMap((f) => (f.type === 'relay' && f.from === 'alice' ? [f.id] : [])),
          ).toEqual(ids.map((i) => `ok${i}`));
          expect(
            aliceGot.flatMap((f) => (f.type === 'relay' && f.from === 'bob' ? [f.id] : [])),
          ).toEqual(ids.map((i) => `back${i}`));
          expect(aliceGot.filter((f) => f.type === 'ack').map((f) => f.id)).toEqual(
            ids.map((i) => `ok${i}`),
          );
          expect(bobGot.filter((f) => f.type === 'ack').map((f) => f.id)).toEqual(
            ids.map((i) => `back${i}`),
          );
          expect([...aliceGot, ...bobGot].filter((f) => f.type === 'error')).toEqual([]);
          expect(alice.session.state).toBe('ready');
          expect(bob.session.state).toBe('ready');

          for (const session of sessions) session.transportClosed();
          await w.hasher.settle();
          await w.hasher.close();
          await ctx.store.close();
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
    },
    Math.max(20_000, RUNS * 50),
  );
});
