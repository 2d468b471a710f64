import {
  ErrorCode,
  encodeError,
  fromBase64,
  HELLO_EXPORTER_BYTES,
  HELLO_EXPORTER_LABEL,
  type HelloFrame,
  verifyHello,
} from '../protocol/index.js';
import type { NameQuota, SharedNameRates } from './name-quota.js';
import type { SessionLog } from './session-log.js';
import type { ServerStats } from './stats.js';
import type { ServerStore } from './store/index.js';

/** What admission needs to know about who holds a name right now. */
export interface OnlineHolder {
  readonly identityKey: string | undefined;
}

export type Admission<H extends OnlineHolder> =
  | { ok: true; bound: 'new' | 'existing' | 'none'; replaces?: H }
  | { ok: false; code: ErrorCode; text: string; reason: string; takeover?: boolean };

export interface AdmissionContext<H extends OnlineHolder> {
  store: ServerStore;
  names: NameQuota;
  /** Cluster-wide name rates (a cluster node), checked after the node's own. */
  sharedNames?: SharedNameRates | undefined;
  /** Per-address limits key of the connection; undefined when the address is shared. */
  addressKey: string | undefined;
  /** Milliseconds an identity is still refused for repeated abuse (behind a shared address). */
  penalizedFor(identityKey: string): number;
  online(name: string): H | undefined;
  /** RFC 5705 exporter of this connection (undefined when the transport has none). */
  exporter(): Uint8Array | undefined;
  now(): number;
}

const EMPTY_CONTEXT = new Uint8Array(0);

/** Every admitted v1 hello gets the same answer (frozen: callers copy to add `replaces`). */
const V1_ADMITTED = Object.freeze({ ok: true, bound: 'none' } as const);

/** Derives the hello exporter value from a transport-level exporter function. */
export function helloExporter(
  exportKeyingMaterial:
    | ((length: number, label: string, context?: Uint8Array) => Uint8Array)
    | undefined,
): Uint8Array | undefined {
  return exportKeyingMaterial?.(HELLO_EXPORTER_BYTES, HELLO_EXPORTER_LABEL, EMPTY_CONTEXT);
}

/**
 * Decides whether a hello may take its name:
 * - v2: both signatures must verify against this connection's exporter; a name bound to
 *   another identity key is refused (`E_NAME_BOUND`); an unbound name is claimed on first
 *   use (one atomic store step, within the identity's cap, after the name rates were
 *   reserved); a name online under the same identity is handed over to this newer
 *   connection.
 * - v1: allowed only for unbound names that are not online.
 * Who holds the name online is checked again by {@link admitHello} after the last await.
 */
export async function admit<H extends OnlineHolder>(
  hello: HelloFrame,
  ctx: AdmissionContext<H>,
): Promise<Admission<H>> {
  if (!provesIdentity(hello)) {
    if (await ctx.store.getBinding(hello.user)) return identityRequired(hello.user);
    const local = v1Rules(hello, ctx);
    if (local !== V1_ADMITTED || !ctx.sharedNames) return local;
    const refused = await ctx.sharedNames.takeV1(hello.user, ctx.addressKey, ctx.now());
    return refused ? quotaRefusal(refused) : V1_ADMITTED;
  }

  const exporter = ctx.exporter();
  if (!exporter) {
    return {
      ok: false,
      code: ErrorCode.INTERNAL,
      text: 'this connection cannot export keying material',
      reason: 'no_exporter',
    };
  }
  const check = verifyHello(
    {
      identityKey: fromBase64(hello.idk, 'idk', 32),
      x25519Key: fromBase64(hello.pub, 'pub', 32),
      keySignature: fromBase64(hello.pubsig, 'pubsig', 64),
      proof: fromBase64(hello.proof, 'proof', 64),
    },
    exporter,
    hello.user,
  );
  if (check !== 'ok') {
    return {
      ok: false,
      code: ErrorCode.BAD_PROOF,
      text:
        check === 'bad-key-signature'
          ? 'the signature over "pub" does not verify with "idk"'
          : 'the identity proof does not verify for this connection',
      reason: check === 'bad-key-signature' ? 'bad_key_signature' : 'bad_proof',
    };
  }
  const binding = await ctx.store.getBinding(hello.user);
  if (binding && binding.identityKey !== hello.idk) return nameBound(hello.user);
  const holder = ctx.online(hello.user);
  if (holder && holder.identityKey !== hello.idk) return nameTaken(hello.user);
  const penalty = ctx.penalizedFor(hello.idk);
  if (penalty > 0) {
    return {
      ok: false,
      code: ErrorCode.RATE_LIMITED,
      text: `this identity was disconnected for abuse repeatedly: try again in ${Math.ceil(penalty / 60_000)} min`,
      reason: 'identity_penalized',
    };
  }
  if (binding) {
    await ctx.store.touchBinding(hello.user, ctx.now());
    return { ok: true, bound: 'existing' };
  }
  return claimNew(hello.user, hello.idk, ctx);
}

/**
 * {@link admit} for a hello it can decide in this turn, without an await: a v1 hello (or a
 * v2 one without a complete proof) where the store tells a bound name at once
 * (`hasBindingNow`, SQLite) and no cluster-wide name rates apply. The same rules in the same
 * order; undefined when admit must decide (a network store, a cluster, a v2 proof).
 */
export function admitV1Now<H extends OnlineHolder>(
  hello: HelloFrame,
  ctx: AdmissionContext<H>,
): Admission<H> | undefined {
  const store = ctx.store;
  if (provesIdentity(hello) || ctx.sharedNames || store.hasBindingNow === undefined)
    return undefined;
  if (store.hasBindingNow(hello.user)) return identityRequired(hello.user);
  return v1Rules(hello, ctx);
}

/** A v2 hello with its whole proof; any other is admitted by its name alone (the v1 rules). */
function provesIdentity(
  hello: HelloFrame,
): hello is HelloFrame & { idk: string; pubsig: string; proof: string } {
  return (
    hello.v >= 2 &&
    hello.idk !== undefined &&
    hello.pubsig !== undefined &&
    hello.proof !== undefined
  );
}

/** A v1 name not bound to an identity: not online, then within this node's v1 name rate. */
function v1Rules<H extends OnlineHolder>(
  hello: HelloFrame,
  ctx: AdmissionContext<H>,
): Admission<H> {
  if (ctx.online(hello.user)) return nameTaken(hello.user);
  const refused = ctx.names.takeV1(hello.user, ctx.addressKey, ctx.now());
  return refused ? quotaRefusal(refused) : V1_ADMITTED;
}

function identityRequired(name: string): Extract<Admission<OnlineHolder>, { ok: false }> {
  return {
    ok: false,
    code: ErrorCode.IDENTITY_REQUIRED,
    text: `the name "${name}" is registered to an identity key: connect with a v2 client that proves it`,
    reason: 'identity_required',
    takeover: true,
  };
}

/** A name not bound yet: reserve it against the name rates, then claim it atomically. */
async function claimNew<H extends OnlineHolder>(
  name: string,
  identityKey: string,
  ctx: AdmissionContext<H>,
): Promise<Admission<H>> {
  const refused =
    (await ctx.names.checkBinding(identityKey, ctx.addressKey, ctx.now())) ??
    ctx.names.reserveBinding(identityKey, ctx.addressKey, ctx.now());
  if (refused) return quotaRefusal(refused);
  const reservedAt = ctx.now();
  const shared = await ctx.sharedNames?.takeBinding(identityKey, ctx.addressKey, reservedAt);
  if (shared && 'refused' in shared) {
    ctx.names.refundBinding(identityKey, ctx.addressKey, reservedAt);
    return quotaRefusal(shared.refused);
  }
  const claim = await ctx.store.claimName(name, identityKey, reservedAt, {
    namesPerIdentity: ctx.names.namesPerIdentity,
  });
  if (!claim.ok || !claim.created) {
    ctx.names.refundBinding(identityKey, ctx.addressKey, reservedAt);
    if (shared) await shared.refund();
  }
  if (claim.ok) return { ok: true, bound: claim.created ? 'new' : 'existing' };
  return claim.reason === 'bound' ? nameBound(name) : quotaRefusal(ctx.names.capRefusal);
}

function nameBound(name: string): Extract<Admission<OnlineHolder>, { ok: false }> {
  return {
    ok: false,
    code: ErrorCode.NAME_BOUND,
    text: `the name "${name}" is registered to another identity key`,
    reason: 'name_bound',
    takeover: true,
  };
}

function quotaRefusal(refused: {
  text: string;
  reason: string;
}): Extract<Admission<OnlineHolder>, { ok: false }> {
  return { ok: false, code: ErrorCode.NAME_QUOTA, text: refused.text, reason: refused.reason };
}

function nameTaken(name: string): Extract<Admission<OnlineHolder>, { ok: false }> {
  return {
    ok: false,
    code: ErrorCode.NAME_TAKEN,
    text: `the name "${name}" is already online`,
    reason: 'name_taken',
    takeover: true,
  };
}

/** Counts and logs a refused hello (and a takeover attempt as a security event). */
export function reportRefusal(
  refusal: Extract<Admission<OnlineHolder>, { ok: false }>,
  hello: { user: string; v: number },
  log: SessionLog,
  stats: ServerStats,
): void {
  stats.helloRefused.inc(refusal.reason);
  if (refusal.code === ErrorCode.NAME_QUOTA) {
    stats.quotaRefused.inc(`name_${refusal.reason}`);
    log.warn({ event: 'name.quota', reason: refusal.reason, user: hello.user });
  }
  log.warn(
    { event: 'hello.refused', reason: refusal.reason, user: hello.user, v: hello.v },
    refusal.text,
  );
  if (refusal.takeover) {
    stats.securityEvents.inc('name_takeover_attempt');
    log.warn({ event: 'name.takeover_attempt', user: hello.user, code: refusal.code });
  }
}

/** A session being admitted: what admission needs to answer it and to hand a name over. */
export interface HelloSession<H extends OnlineHolder> {
  readonly addressKey: string | undefined;
  readonly log: SessionLog;
  /** False once the connection closed (admission awaits the store). */
  readonly open: boolean;
  reply(line: string, kind: string): boolean;
  exportKeyingMaterial?: (length: number, label: string, context?: Uint8Array) => Uint8Array;
  /** Removes the session a newer connection of the same identity replaces. */
  takeOver(holder: H): void;
  /**
   * Runs once admission passed, before the session shows up anywhere (stores what the hello
   * published, so it is there before anyone sees the session in the directory).
   */
  prepare?(): Promise<void>;
  /** Joins the directory; called in the same turn as the last check of who holds the name. */
  enter(): void;
}

/**
 * Runs admission for a session's hello: a refusal is reported and answered (the session
 * may retry); a session of the same identity it replaces is handed over. Who holds the name
 * online is decided here, after the last await, so of two connections claiming one name
 * only one is admitted: the session enters the directory in the same turn as that check.
 * Returns the admission when accepted (and the session still open).
 */
export async function admitHello<H extends OnlineHolder>(
  hello: HelloFrame,
  session: HelloSession<H>,
  ctx: ServerAdmission<H>,
): Promise<Accepted<H> | undefined> {
  const admission = await admit(hello, new HelloContext(ctx, session));
  if (admission.ok && session.prepare) await session.prepare();
  if (!session.open) return undefined;
  return conclude(admission, hello, session, ctx);
}

/**
 * {@link admitHello} in this turn, without an await, where {@link admitV1Now} decides (a v1
 * hello on a lone server with SQLite: most of a connect storm's hellos), with the same
 * answer; `'pending'` where only admitHello can (nothing was done then).
 */
export function admitHelloNow<H extends OnlineHolder>(
  hello: HelloFrame,
  session: HelloSession<H>,
  ctx: ServerAdmission<H>,
): Accepted<H> | undefined | 'pending' {
  if (session.prepare) return 'pending';
  const admission = admitV1Now(hello, new HelloContext(ctx, session));
  return admission === undefined ? 'pending' : conclude(admission, hello, session, ctx);
}

/** What admission asks of the server: the same for every hello (made once per server). */
export type ServerAdmission<H extends OnlineHolder> = Omit<
  AdmissionContext<H>,
  'addressKey' | 'exporter'
> & { stats: ServerStats };

export type Accepted<H extends OnlineHolder> = Extract<Admission<H>, { ok: true }>;

/** One hello's {@link AdmissionContext}: the server's part and the session's (one object). */
class HelloContext<H extends OnlineHolder> implements AdmissionContext<H> {
  readonly store: ServerStore;
  readonly names: NameQuota;
  readonly sharedNames: SharedNameRates | undefined;
  readonly addressKey: string | undefined;
  #server: ServerAdmission<H>;
  #session: HelloSession<H>;

  constructor(server: ServerAdmission<H>, session: HelloSession<H>) {
    this.store = server.store;
    this.names = server.names;
    this.sharedNames = server.sharedNames;
    this.addressKey = session.addressKey;
    this.#server = server;
    this.#session = session;
  }
  penalizedFor(identityKey: string): number {
    return this.#server.penalizedFor(identityKey);
  }
  online(name: string): H | undefined {
    return this.#server.online(name);
  }
  exporter(): Uint8Array | undefined {
    return helloExporter(this.#session.exportKeyingMaterial);
  }
  now(): number {
    return this.#server.now();
  }
}

/**
 * The last check of who holds the name, in the same turn as the session enters the
 * directory; a refusal is reported and answered.
 */
function conclude<H extends OnlineHolder>(
  decided: Admission<H>,
  hello: HelloFrame,
  session: HelloSession<H>,
  ctx: ServerAdmission<H>,
): Accepted<H> | undefined {
  let admission = decided;
  const holder = ctx.online(hello.user);
  if (admission.ok && holder) {
    const same = admission.bound !== 'none' && holder.identityKey === hello.idk;
    admission = same ? { ...admission, replaces: holder } : nameTaken(hello.user);
  }
  if (!admission.ok) {
    reportRefusal(admission, hello, session.log, ctx.stats);
    session.reply(encodeError(admission.code, admission.text), 'error');
    return undefined;
  }
  if (admission.replaces) session.takeOver(admission.replaces);
  session.enter();
  return admission;
}
