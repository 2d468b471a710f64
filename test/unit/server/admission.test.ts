import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  type HelloFrame,
  signHelloProof,
  signPrekey,
  toBase64,
} from '../../../src/protocol/index.js';
import {
  type AdmissionContext,
  admit,
  admitHello,
  admitHelloNow,
  admitV1Now,
  type HelloSession,
  type OnlineHolder,
} from '../../../src/server/admission.js';
import { createLogger } from '../../../src/server/logger.js';
import { NameQuota } from '../../../src/server/name-quota.js';
import { SessionLog } from '../../../src/server/session-log.js';
import { ServerStats } from '../../../src/server/stats.js';
import { SqliteStore } from '../../../src/server/store/index.js';
import { newIdentity, type TestIdentity } from '../../helpers/v2-hello.js';

/**
 * admission.ts is pure decision code over a store, a name quota and the directory: these
 * tests drive it with an in-memory store and a fixed exporter, no sockets.
 */

const EXPORTER = new Uint8Array(32).fill(7);
const LIMITS = {
  namesPerIdentity: 2,
  newNamesPerIdentity: 10,
  newNamesPerAddress: 10,
  newNamesPerHour: 100,
};

function v2(user: string, who: TestIdentity, exporter = EXPORTER): HelloFrame {
  return {
    type: 'hello',
    v: 2,
    caps: [],
    user,
    pub: toBase64(who.x25519.publicKey),
    idk: toBase64(who.identity.publicKey),
    pubsig: toBase64(signPrekey(who.identity.secretKey, who.x25519.publicKey)),
    proof: toBase64(signHelloProof(who.identity.secretKey, exporter, user)),
  };
}

function v1(user: string, who: TestIdentity): HelloFrame {
  return { type: 'hello', v: 1, caps: [], user, pub: toBase64(who.x25519.publicKey) };
}

function world(overrides: Partial<AdmissionContext<OnlineHolder>> = {}) {
  const store = new SqliteStore(':memory:');
  const online = new Map<string, OnlineHolder>();
  let now = 1_000_000;
  const ctx: AdmissionContext<OnlineHolder> = {
    store,
    names: new NameQuota(store, LIMITS),
    addressKey: '10.0.0.1',
    penalizedFor: () => 0,
    online: (name) => online.get(name),
    exporter: () => EXPORTER,
    now: () => now,
    ...overrides,
  };
  return { store, online, ctx, advance: (ms: number) => (now += ms) };
}

function refusal(result: Awaited<ReturnType<typeof admit>>) {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
  return result;
}

describe('admit (v2)', () => {
  it('claims an unbound name for the proving identity, then recognises it', async () => {
    const { store, ctx } = world();
    const alice = newIdentity();
    expect(await admit(v2('alice', alice), ctx)).toEqual({ ok: true, bound: 'new' });
    expect((await store.getBinding('alice'))?.identityKey).toBe(toBase64(alice.identity.publicKey));
    expect(await admit(v2('alice', alice), ctx)).toEqual({ ok: true, bound: 'existing' });
  });

  it('refuses a name bound to another identity key, whatever its case', async () => {
    const { ctx } = world();
    await admit(v2('alice', newIdentity()), ctx);
    const r = refusal(await admit(v2('ALICE', newIdentity()), ctx));
    expect(r).toMatchObject({ code: ErrorCode.NAME_BOUND, reason: 'name_bound', takeover: true });
  });

  it('refuses a proof made for another connection (exporter) or another name', async () => {
    const { ctx } = world();
    const alice = newIdentity();
    const replayed = v2('alice', alice, new Uint8Array(32).fill(9));
    expect(refusal(await admit(replayed, ctx))).toMatchObject({
      code: ErrorCode.BAD_PROOF,
      reason: 'bad_proof',
    });
    const renamed = { ...v2('alice', alice), user: 'mallory' };
    expect(refusal(await admit(renamed, ctx)).reason).toBe('bad_proof');
  });

  it('refuses an X25519 key the identity did not sign', async () => {
    const { ctx } = world();
    const hello = { ...v2('alice', newIdentity()), pub: toBase64(newIdentity().x25519.publicKey) };
    expect(refusal(await admit(hello, ctx))).toMatchObject({
      code: ErrorCode.BAD_PROOF,
      reason: 'bad_key_signature',
    });
  });

  it('refuses when the connection cannot export keying material', async () => {
    const { ctx } = world({ exporter: () => undefined });
    expect(refusal(await admit(v2('alice', newIdentity()), ctx))).toMatchObject({
      code: ErrorCode.INTERNAL,
      reason: 'no_exporter',
    });
  });

  it('refuses a name online under another identity, not under the same one', async () => {
    const { online, ctx } = world();
    const alice = newIdentity();
    online.set('alice', { identityKey: 'someone-else' });
    expect(refusal(await admit(v2('alice', alice), ctx)).code).toBe(ErrorCode.NAME_TAKEN);
    online.set('alice', { identityKey: toBase64(alice.identity.publicKey) });
    expect((await admit(v2('alice', alice), ctx)).ok).toBe(true);
  });

  it('refuses a penalized identity with the minutes left', async () => {
    const { ctx } = world({ penalizedFor: () => 90_000 });
    const r = refusal(await admit(v2('alice', newIdentity()), ctx));
    expect(r).toMatchObject({ code: ErrorCode.RATE_LIMITED, reason: 'identity_penalized' });
    expect(r.text).toContain('2 min');
  });

  it('caps the names one identity holds, and refunds the refused claim', async () => {
    const { store, ctx } = world();
    const alice = newIdentity();
    expect((await admit(v2('a1', alice), ctx)).ok).toBe(true);
    expect((await admit(v2('a2', alice), ctx)).ok).toBe(true);
    const r = refusal(await admit(v2('a3', alice), ctx));
    expect(r).toMatchObject({ code: ErrorCode.NAME_QUOTA, reason: 'identity_cap' });
    expect(await store.getBinding('a3')).toBeUndefined();
  });

  it('of two concurrent claims of one name by two identities, one wins', async () => {
    const { ctx } = world();
    const results = await Promise.all([
      admit(v2('bob', newIdentity()), ctx),
      admit(v2('bob', newIdentity()), ctx),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ code: ErrorCode.NAME_BOUND });
  });
});

describe('admit (v1)', () => {
  it('admits an unbound name that is not online, unbound', async () => {
    const { ctx } = world();
    expect(await admit(v1('carol', newIdentity()), ctx)).toEqual({ ok: true, bound: 'none' });
  });

  it('refuses a name bound to an identity key (a takeover attempt)', async () => {
    const { ctx } = world();
    await admit(v2('alice', newIdentity()), ctx);
    expect(refusal(await admit(v1('alice', newIdentity()), ctx))).toMatchObject({
      code: ErrorCode.IDENTITY_REQUIRED,
      reason: 'identity_required',
      takeover: true,
    });
  });

  it('refuses a name that is online, and a v2 hello missing its proof is treated as v1', async () => {
    const { online, ctx } = world();
    online.set('carol', { identityKey: undefined });
    expect(refusal(await admit(v1('carol', newIdentity()), ctx)).code).toBe(ErrorCode.NAME_TAKEN);
    const { ctx: other } = world();
    await admit(v2('dave', newIdentity()), other);
    const { proof: _, ...noProof } = v2('dave', newIdentity());
    expect(refusal(await admit(noProof, other)).code).toBe(ErrorCode.IDENTITY_REQUIRED);
  });
});

describe('admitV1Now (v1 without an await)', () => {
  it('answers as admit does: admitted, bound, online, over the v1 name rate', async () => {
    const mine = world();
    const theirs = world();
    await admit(v2('alice', newIdentity()), mine.ctx);
    await admit(v2('alice', newIdentity()), theirs.ctx);
    mine.online.set('dave', { identityKey: undefined });
    theirs.online.set('dave', { identityKey: undefined });
    // newNamesPerAddress is 10: the eleventh new v1 name from one address is refused
    const names = [
      'carol',
      'alice',
      'ALICE',
      'dave',
      ...Array.from({ length: 11 }, (_, i) => `v${i}`),
    ];
    for (const name of names) {
      const now = admitV1Now(v1(name, newIdentity()), mine.ctx);
      expect(now, name).toEqual(await admit(v1(name, newIdentity()), theirs.ctx));
    }
    expect(refusal(admitV1Now(v1('v99', newIdentity()), mine.ctx)!).code).toBe(
      ErrorCode.NAME_QUOTA,
    );
  });

  it('leaves to admit what needs an await: a proof, shared rates, a store without hasBindingNow', () => {
    const { ctx, store } = world();
    expect(admitV1Now(v2('alice', newIdentity()), ctx)).toBeUndefined();
    const sharedNames = {
      takeV1: async () => undefined,
      takeBinding: async () => ({ refund: async () => {} }),
    };
    expect(admitV1Now(v1('carol', newIdentity()), { ...ctx, sharedNames })).toBeUndefined();
    const network = Object.create(store, { hasBindingNow: { value: undefined } });
    expect(admitV1Now(v1('carol', newIdentity()), { ...ctx, store: network })).toBeUndefined();
    expect(admitV1Now(v1('carol', newIdentity()), ctx)).toEqual({ ok: true, bound: 'none' });
  });
});

/** A session double for admitHello: records replies, takeovers and entering. */
function session(overrides: Partial<HelloSession<OnlineHolder>> = {}) {
  const replies: Array<{ type: string; code?: string }> = [];
  const events: string[] = [];
  const s: HelloSession<OnlineHolder> = {
    addressKey: '10.0.0.1',
    log: new SessionLog(createLogger({ level: 'silent' }), { burst: 10, perMinute: 10 }, () => 0),
    open: true,
    reply: (line) => {
      replies.push(JSON.parse(line) as { type: string; code?: string });
      return true;
    },
    exportKeyingMaterial: () => EXPORTER,
    takeOver: () => events.push('takeOver'),
    enter: () => events.push('enter'),
  };
  // copy getters as getters (a session's `open` changes while admission awaits)
  Object.defineProperties(s, Object.getOwnPropertyDescriptors(overrides));
  return { s, replies, events };
}

describe('admitHello', () => {
  it('answers a refusal with its error frame, counts it and does not enter', async () => {
    const { ctx } = world();
    const stats = new ServerStats();
    await admit(v2('alice', newIdentity()), ctx);
    const { s, replies, events } = session();
    expect(await admitHello(v2('alice', newIdentity()), s, { ...ctx, stats })).toBeUndefined();
    expect(replies).toEqual([
      expect.objectContaining({ type: 'error', code: ErrorCode.NAME_BOUND }),
    ]);
    expect(events).toEqual([]);
    expect(stats.helloRefused.get('name_bound')).toBe(1);
    expect(stats.securityEvents.get('name_takeover_attempt')).toBe(1);
  });

  it('hands the name over from an older connection of the same identity, then enters', async () => {
    const { online, ctx } = world();
    const alice = newIdentity();
    const older = { identityKey: toBase64(alice.identity.publicKey) };
    online.set('alice', older);
    const taken: OnlineHolder[] = [];
    const { s, replies, events } = session({
      takeOver: (holder) => {
        taken.push(holder);
        events.push('takeOver');
      },
    });
    const admission = await admitHello(v2('alice', alice), s, { ...ctx, stats: new ServerStats() });
    expect(admission).toMatchObject({ ok: true, bound: 'new', replaces: older });
    expect(taken).toEqual([older]);
    expect(events).toEqual(['takeOver', 'enter']);
    expect(replies).toEqual([]);
  });

  it('checks who holds the name again after prepare(): a v1 name taken meanwhile is refused', async () => {
    const { online, ctx } = world();
    const { s, replies, events } = session({
      prepare: async () => {
        online.set('carol', { identityKey: undefined });
      },
    });
    expect(
      await admitHello(v1('carol', newIdentity()), s, { ...ctx, stats: new ServerStats() }),
    ).toBe(undefined);
    expect(replies[0]?.code).toBe(ErrorCode.NAME_TAKEN);
    expect(events).toEqual([]);
  });

  it('admitHelloNow enters or answers in this turn, and leaves anything to prepare pending', () => {
    const { online, ctx } = world();
    const stats = new ServerStats();
    const entered = session();
    expect(admitHelloNow(v1('carol', newIdentity()), entered.s, { ...ctx, stats })).toEqual({
      ok: true,
      bound: 'none',
    });
    expect(entered.events).toEqual(['enter']);
    online.set('carol', { identityKey: undefined });
    const refused = session();
    expect(admitHelloNow(v1('carol', newIdentity()), refused.s, { ...ctx, stats })).toBe(undefined);
    expect(refused.replies[0]?.code).toBe(ErrorCode.NAME_TAKEN);
    expect(stats.helloRefused.get('name_taken')).toBe(1);
    const claiming = session({ prepare: async () => {} });
    expect(admitHelloNow(v1('erin', newIdentity()), claiming.s, { ...ctx, stats })).toBe('pending');
    expect(admitHelloNow(v2('frank', newIdentity()), session().s, { ...ctx, stats })).toBe(
      'pending',
    );
    expect(claiming.events).toEqual([]);
  });

  it('does nothing for a session that closed while admission awaited the store', async () => {
    const { ctx } = world();
    let open = true;
    const { s, replies, events } = session({
      get open() {
        return open;
      },
      prepare: async () => {
        open = false;
      },
    });
    expect(
      await admitHello(v2('alice', newIdentity()), s, { ...ctx, stats: new ServerStats() }),
    ).toBe(undefined);
    expect(replies).toEqual([]);
    expect(events).toEqual([]);
  });
});
