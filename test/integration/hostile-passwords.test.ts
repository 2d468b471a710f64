import { afterEach, describe, expect, it } from 'vitest';
import { identityFingerprint } from '../../src/protocol/index.js';
import type { ServerConfig } from '../../src/server/config.js';
import { PasswordHasher } from '../../src/server/rooms/password-hasher.js';
import { Attacker, barrier, ChattingPair, loginV2 } from '../helpers/hostile.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity } from '../helpers/v2-hello.js';

const GOOD = '127.0.0.2';
const VICTIM = '127.0.0.5';
const EVIL = '127.0.0.9';
const CHEAP = { m: 64, t: 1, p: 1, dkLen: 32 } as const;

/** The real argon2id hasher with cheap parameters, counting the checks it runs. */
class CountingHasher extends PasswordHasher {
  verifies = 0;
  inFlight = 0;
  maxInFlight = 0;
  constructor() {
    super(CHEAP);
  }
  override async verify(password: string, phc: string): Promise<boolean> {
    this.verifies++;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      return await super.verify(password, phc);
    } finally {
      this.inFlight--;
    }
  }
}

/** Verifies only when released, so a test can fill the hashing queue deterministically. */
class GatedHasher extends PasswordHasher {
  #gates: Array<() => void> = [];
  started = 0;
  constructor() {
    super(CHEAP);
  }
  override async verify(password: string, phc: string): Promise<boolean> {
    this.started++;
    await new Promise<void>((resolve) => this.#gates.push(resolve));
    return super.verify(password, phc);
  }
  release(): void {
    for (const open of this.#gates.splice(0)) open();
  }
}

async function join(
  client: RawClient,
  room: string,
  password?: string,
  id = `j-${room.slice(1)}-${Math.random().toString(36).slice(2, 8)}`,
): Promise<Record<string, unknown>> {
  client.send({ type: 'join', room, id, ...(password === undefined ? {} : { password }) });
  return client.next(
    (f) => (f.type === 'joined' && f.room === room) || (f.type === 'error' && f.ref === id),
    10_000,
  );
}

async function setPassword(owner: RawClient, room: string, password: string): Promise<void> {
  expect((await join(owner, room)).type).toBe('joined');
  owner.send({ type: 'moderate', room, action: 'password', password, id: `pw-${room.slice(1)}` });
  await owner.next((f) => f.type === 'room' && f.event === 'password' && f.room === room, 10_000);
}

describe('hostile users against room passwords', () => {
  let t: TestServer;
  const attackers: Attacker[] = [];
  const start = async (overrides: Partial<ServerConfig>, hasher: PasswordHasher) => {
    t = await startTestServer({ lobby: '#lobby', ...overrides }, { hasher });
    return t;
  };
  afterEach(async () => {
    for (const attacker of attackers.splice(0)) attacker.closeAll();
    await t?.close();
  });

  it('attack 3: a burst of 40 guesses checks at most one at a time and five in all; the right one is not let in', async () => {
    // Failed on the old code: all 40 were checked (limit 5) and the correct one accepted.
    const hasher = new CountingHasher();
    await start({ roomPasswordAttempts: 5 }, hasher);
    const pair = await ChattingPair.start(t, { localAddress: GOOD });
    const owner = await loginV2(t, 'owner', newIdentity(), { localAddress: VICTIM });
    await setPassword(owner, '#vault', 'right');
    const attacker = new Attacker(t, EVIL);
    attackers.push(attacker);
    const { client } = await attacker.login('guesser');
    const ids = Array.from({ length: 40 }, (_, i) => `g${i}`);
    client.send(
      ids
        .map(
          (id, i) =>
            `${JSON.stringify({ type: 'join', room: '#vault', password: i === 39 ? 'right' : `wrong${i}`, id })}\n`,
        )
        .join(''),
    );
    const answers = await Promise.all(
      ids.map((id) =>
        client.next(
          (f) => (f.type === 'error' && f.ref === id) || (f.type === 'joined' && f.id === id),
          10_000,
        ),
      ),
    );
    expect(answers.filter((a) => a.type === 'joined')).toEqual([]);
    expect(hasher.maxInFlight).toBe(1);
    expect(hasher.verifies).toBeLessThanOrEqual(5);
    const codes = new Set(answers.map((a) => a.code));
    expect(
      [...codes].every((c) => ['E_BAD_PASSWORD', 'E_BUSY', 'E_LOCKED_OUT'].includes(String(c))),
    ).toBe(true);
    // One guess at a time, five in all: then the address is locked out of that room.
    for (let i = 0; i < 6; i++) await join(client, '#vault', `again${i}`);
    expect((await join(client, '#vault', 'right')).code).toBe('E_LOCKED_OUT');
    expect(hasher.verifies).toBeLessThanOrEqual(5);
    await pair.stop();
  });

  it('attack 3: 200 guesses from one connection do not queue up in front of another room', async () => {
    // Failed on the old code: all 200 went into the one argon2 worker's unbounded queue.
    const hasher = new CountingHasher();
    await start({ roomPasswordAttempts: 5, framesPerSecond: 500, frameBurst: 500 }, hasher);
    const owner = await loginV2(t, 'owner', newIdentity(), { localAddress: VICTIM });
    await setPassword(owner, '#vault', 'right');
    await setPassword(owner, '#other', 'open-sesame');
    const attacker = new Attacker(t, EVIL);
    attackers.push(attacker);
    const { client } = await attacker.login('hammer');
    const burst = Array.from(
      { length: 200 },
      (_, i) =>
        `${JSON.stringify({ type: 'join', room: '#vault', password: `w${i}`, id: `h${i}` })}\n`,
    ).join('');
    client.send(burst);
    const friend = await loginV2(t, 'friend', newIdentity(), { localAddress: GOOD });
    expect((await join(friend, '#other', 'open-sesame')).type).toBe('joined');
    await barrier(client, 20_000);
    expect(hasher.verifies).toBeLessThanOrEqual(1 + 5); // the friend's and the attacker's five
  });

  it("attack 3: wrong guesses from a shared address never lock out the room's owner, operators or admins", async () => {
    // Failed on the old code: five wrong guesses from the owner's address locked the owner out.
    const admin = newIdentity();
    const hasher = new CountingHasher();
    await start(
      {
        roomPasswordAttempts: 5,
        admins: [identityFingerprint(admin.identity.publicKey)],
      },
      hasher,
    );
    const house = new Attacker(t, EVIL); // everyone here shares one address
    attackers.push(house);
    const ownerId = newIdentity();
    const { client: owner } = await house.login('owner', ownerId);
    await setPassword(owner, '#home', 'secret');
    const { client: op } = await house.login('op');
    expect((await join(op, '#home', 'secret')).type).toBe('joined');
    owner.send({ type: 'moderate', room: '#home', action: 'op', user: 'op', id: 'o' });
    await owner.next((f) => f.type === 'ack' && f.id === 'o');
    for (const c of [owner, op]) {
      c.send({ type: 'part', room: '#home' });
      await barrier(c);
    }
    const { client: guesser } = await house.login('guesser');
    for (let i = 0; i < 5; i++) await join(guesser, '#home', `nope${i}`);
    expect((await join(guesser, '#home', 'secret')).code).toBe('E_LOCKED_OUT');
    expect((await join(owner, '#home')).type).toBe('joined');
    expect((await join(op, '#home')).type).toBe('joined');
    const { client: boss } = await house.login('boss', admin);
    expect((await join(boss, '#home')).type).toBe('joined');
  });

  it('attack 3: the hashing queue is bounded and answers E_BUSY when full', async () => {
    // Failed on the old code: the queue had no bound and nobody was ever told to come back.
    const hasher = new GatedHasher();
    await start({ passwordQueue: 2 }, hasher);
    const owner = await loginV2(t, 'owner', newIdentity(), { localAddress: VICTIM });
    for (const room of ['#a', '#b', '#c']) await setPassword(owner, room, 'pw');
    const guessers: RawClient[] = [];
    for (let i = 0; i < 3; i++) {
      const attacker = new Attacker(t, `127.0.0.${20 + i}`);
      attackers.push(attacker);
      guessers.push((await attacker.login(`queuer${i}`)).client);
    }
    guessers[0]!.send({ type: 'join', room: '#a', password: 'x', id: 'q0' });
    guessers[1]!.send({ type: 'join', room: '#b', password: 'x', id: 'q1' });
    await barrier(guessers[0]!);
    await barrier(guessers[1]!);
    expect(hasher.started).toBe(2);
    expect((await join(guessers[2]!, '#c', 'pw')).code).toBe('E_BUSY');
    hasher.release();
    expect((await guessers[0]!.next((f) => f.ref === 'q0')).code).toBe('E_BAD_PASSWORD');
    expect((await guessers[1]!.next((f) => f.ref === 'q1')).code).toBe('E_BAD_PASSWORD');
    const late = join(guessers[2]!, '#c', 'pw');
    for (let i = 0; i < 500 && hasher.started < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    hasher.release();
    expect((await late).type).toBe('joined');
  });

  it('attack 3: /join #new with a password creates the room with that password, and says so', async () => {
    // Failed on the old code: the password was silently ignored and the room stayed open.
    await start({}, new CountingHasher());
    const creator = await loginV2(t, 'creator', newIdentity(), { localAddress: VICTIM });
    const joined = await join(creator, '#secret', 'hunter2');
    expect(joined).toMatchObject({ type: 'joined', created: true, password: true });
    const other = await loginV2(t, 'other', newIdentity(), { localAddress: GOOD });
    expect((await join(other, '#secret')).code).toBe('E_BAD_PASSWORD');
    expect((await join(other, '#secret', 'hunter2')).type).toBe('joined');
    other.send({ type: 'rooms', id: 'list' });
    const list = await other.next((f) => f.type === 'rooms');
    expect(
      (list.rooms as Array<Record<string, unknown>>).find((r) => r.room === '#secret'),
    ).toMatchObject({
      password: true,
    });
  });
});
