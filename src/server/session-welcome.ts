import {
  Capability,
  ErrorCode,
  encodeError,
  encodeUsersV1,
  encodeUsersV2,
  encodeWelcomeV1,
  encodeWelcomeV2,
  type HelloFrame,
  PQ_MIN_MAX_LINE_BYTES,
  ProtocolError,
} from '../protocol/index.js';
import {
  type Accepted,
  admitHello,
  admitHelloNow,
  type HelloSession,
  reportRefusal,
  type ServerAdmission,
} from './admission.js';
import type { FrameSession } from './frame-table.js';
import type { SessionContext } from './session-context.js';
import type { SessionLog } from './session-log.js';

/** The directory as a `users` frame for a client of `version` (v1: names and keys). */
export function usersLineOf(
  version: number,
  directory: { usersJson(): string; peersJson(): string },
): string {
  return version < 2 ? encodeUsersV1(directory.usersJson()) : encodeUsersV2(directory.peersJson());
}

/** What admission needs of a session besides the frame-table view. */
export interface WelcomedSession extends FrameSession {
  readonly id: string;
  readonly addressKey: string | undefined;
  /** A newer connection of the same identity takes this session's name. */
  replaced(): void;
}

/** What only the session itself can do, lent to {@link welcomeSession} for one hello. */
export interface SessionEntry {
  /** True while the session still waits for its hello (false once closed). */
  readonly awaitingHello: boolean;
  exportKeyingMaterial?: (length: number, label: string, context?: Uint8Array) => Uint8Array;
  /** Takes the hello's facts, joins the directory and becomes ready, in one turn. */
  enter(): void;
}

const depsByContext = new WeakMap<object, ServerAdmission<WelcomedSession>>();

/** Made once per context (it reads the context's fields when asked, not when made). */
function admissionDeps<S extends WelcomedSession>(ctx: SessionContext<S>): ServerAdmission<S> {
  let deps = depsByContext.get(ctx) as ServerAdmission<S> | undefined;
  if (deps === undefined) {
    deps = {
      get store() {
        return ctx.store;
      },
      get names() {
        return ctx.names;
      },
      get sharedNames() {
        return ctx.sharedNames;
      },
      get stats() {
        return ctx.stats;
      },
      penalizedFor: (identityKey) => ctx.penalizedFor?.(identityKey) ?? 0,
      online: (name) => ctx.directory.get(name),
      now: () => ctx.clock.now(),
    };
    depsByContext.set(ctx, deps as unknown as ServerAdmission<WelcomedSession>);
  }
  return deps;
}

/**
 * One hello's view for admitHello (a class, not an object of closures: every connection
 * makes one). `prepare` is there only when there is something to prepare (a cluster claim,
 * a v2 hello's published keys): a v1 hello on a lone server skips that await.
 */
class Admitting<S extends WelcomedSession> implements HelloSession<S> {
  readonly exportKeyingMaterial: SessionEntry['exportKeyingMaterial'];
  readonly prepare: (() => Promise<void>) | undefined;
  #session: S;
  #hello: HelloFrame;
  #ctx: SessionContext<S>;
  #entry: SessionEntry;
  #claimed = false;

  constructor(session: S, hello: HelloFrame, ctx: SessionContext<S>, entry: SessionEntry) {
    this.#session = session;
    this.#hello = hello;
    this.#ctx = ctx;
    this.#entry = entry;
    this.exportKeyingMaterial = entry.exportKeyingMaterial;
    this.prepare = ctx.cluster || (hello.idk && hello.pubsig) ? () => this.#prepare() : undefined;
  }

  get addressKey(): string | undefined {
    return this.#session.addressKey;
  }
  get log(): SessionLog {
    return this.#session.log;
  }
  get open(): boolean {
    return this.#entry.awaitingHello;
  }
  reply(line: string, kind: string): boolean {
    return this.#session.reply(line, kind);
  }
  takeOver(holder: S): void {
    holder.replaced();
    this.#ctx.directory.remove(holder);
  }
  enter(): void {
    this.#entry.enter();
  }

  /** Gives the cluster claim back (a session that did not enter after all). */
  release(): Promise<void> | undefined {
    return this.#claimed
      ? this.#ctx.cluster?.unclaim(this.#session.id, this.#hello.user)
      : undefined;
  }

  async #prepare(): Promise<void> {
    const ctx = this.#ctx;
    const hello = this.#hello;
    if (ctx.cluster) {
      await ctx.cluster.claim(this.#session.id, hello);
      this.#claimed = true;
    }
    if (!hello.idk || !hello.pubsig) return;
    const published = { pub: hello.pub, pubsig: hello.pubsig, caps: hello.caps };
    await ctx.store.touchBinding(hello.user, ctx.clock.now(), published);
    const owner = { name: hello.user, identityKey: hello.idk };
    const log = this.#session.log;
    if (hello.spk && !(await ctx.prekeys.storeSignedPrekey(owner, hello.spk)))
      log.warn({ event: 'frame.rejected', code: 'E_BAD_PROOF' }, 'hello spk ignored');
    if (hello.kemlr && !(await ctx.prekeys.storeKemLastResort(owner, hello.kemlr)))
      log.warn({ event: 'frame.rejected', code: 'E_BAD_PROOF' }, 'hello kemlr ignored');
  }
}

/**
 * Admission of a hello (admission.ts), then the welcome and what a new session is owed:
 * the directory (v2 only with `presence`), its prekey count, its mailbox and its rooms.
 * A v1 hello on a lone server with SQLite is admitted and welcomed in this turn, without a
 * promise (most of a connect storm); a promise is returned only where something is awaited.
 */
export function welcomeSession<S extends WelcomedSession>(
  session: S,
  hello: HelloFrame,
  ctx: SessionContext<S>,
  entry: SessionEntry,
): Promise<void> | undefined {
  const admitting = new Admitting(session, hello, ctx, entry);
  const deps = admissionDeps(ctx);
  const now = admitHelloNow<S>(hello, admitting, deps);
  if (now === 'pending') return admitThenWelcome(session, hello, ctx, admitting, deps);
  return now === undefined ? undefined : welcome(session, hello, ctx, now);
}

async function admitThenWelcome<S extends WelcomedSession>(
  session: S,
  hello: HelloFrame,
  ctx: SessionContext<S>,
  admitting: Admitting<S>,
  deps: ServerAdmission<S>,
): Promise<void> {
  const stats = ctx.stats;
  let admission: Accepted<S> | undefined;
  try {
    admission = await admitHello<S>(hello, admitting, deps);
  } catch (error) {
    await admitting.release();
    if (!(error instanceof ProtocolError) || error.code !== ErrorCode.NAME_TAKEN) throw error;
    // Another node holds the name for someone else: refused like a local holder would be.
    const refusal = {
      ok: false as const,
      code: error.code,
      text: error.message,
      reason: 'name_taken',
      takeover: true,
    };
    reportRefusal(refusal, hello, session.log, stats);
    session.reply(encodeError(refusal.code, refusal.text), 'error');
    return;
  }
  if (!admission || session.state !== 'ready') {
    await admitting.release();
    return;
  }
  await welcome(session, hello, ctx, admission);
}

/** The welcome, then what the new session is owed (a promise only if that is awaited). */
function welcome<S extends WelcomedSession>(
  session: S,
  hello: HelloFrame,
  ctx: SessionContext<S>,
  admission: Accepted<S>,
): Promise<void> | undefined {
  const { directory, stats } = ctx;
  session.log.bind({ user: hello.user });
  stats.helloAccepted.tally(hello.v === 1 ? 'v1' : hello.v === 2 ? 'v2' : `v${hello.v}`);
  if (session.log.infoEnabled)
    session.log.info({
      event: 'hello.accepted',
      v: hello.v,
      identity: admission.bound,
      replaced: admission.replaces !== undefined,
    });
  // v2: the directory only for clients with `presence`; the others ask with `list` when
  // they need it, which keeps admission O(1) for idle clients instead of O(online users).
  session.reply(
    hello.v < 2
      ? encodeWelcomeV1(directory.usersJson())
      : encodeWelcomeV2(
          session.has(Capability.presence) ? directory.peersJson() : '{}',
          // `pq` only where a KEM prekey upload fits the line limit.
          ctx.limits.maxLineBytes >= PQ_MIN_MAX_LINE_BYTES,
          ctx.limits.maxLineBytes,
          // `files` only with a chunk store (compose.ts chunkStoreDir).
          ctx.files !== undefined,
          ctx.files?.store.limits.maxFileBytes,
        ),
    'welcome',
  );
  ctx.presence.joined(session, admission.replaces !== undefined);
  // A v1 session has no capabilities (SessionIdentity.has): it is owed nothing more.
  return hello.v < 2 ? undefined : deliverOwed(session, hello, ctx);
}

/** A new session's prekey count, mailbox, fetched acknowledgements and rooms. */
async function deliverOwed<S extends WelcomedSession>(
  session: S,
  hello: HelloFrame,
  ctx: SessionContext<S>,
): Promise<void> {
  if (session.has(Capability.ratchet) && hello.idk)
    session.reply(await ctx.prekeys.countLine(session), 'prekeys');
  if (session.has(Capability.mailbox)) await session.mailbox.deliver();
  if (session.has(Capability.ack)) await session.mailbox.deliverFetched();
  if (session.has(Capability.rooms)) await ctx.rooms.welcome(session);
}
