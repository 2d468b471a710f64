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
import { admitHello, reportRefusal } from './admission.js';
import type { FrameSession } from './frame-table.js';
import type { SessionContext } from './session-context.js';

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

/**
 * Admission of a hello (admission.ts), then the welcome and what a new session is owed:
 * the directory (v2 only with `presence`), its prekey count, its mailbox and its rooms.
 */
export async function welcomeSession<S extends WelcomedSession>(
  session: S,
  hello: HelloFrame,
  ctx: SessionContext<S>,
  entry: SessionEntry,
): Promise<void> {
  const { directory, presence, store, stats, prekeys } = ctx;
  let claimed = false;
  const release = () => (claimed ? ctx.cluster?.unclaim(session.id, hello.user) : undefined);
  const admission = await admitHello<S>(
    hello,
    {
      addressKey: session.addressKey,
      log: session.log,
      get open() {
        return entry.awaitingHello;
      },
      reply: (line, kind) => session.reply(line, kind),
      ...(entry.exportKeyingMaterial ? { exportKeyingMaterial: entry.exportKeyingMaterial } : {}),
      takeOver: (holder) => {
        holder.replaced();
        directory.remove(holder);
      },
      enter: () => entry.enter(),
      prepare: async () => {
        if (ctx.cluster) {
          await ctx.cluster.claim(session.id, hello);
          claimed = true;
        }
        if (!hello.idk || !hello.pubsig) return;
        const published = { pub: hello.pub, pubsig: hello.pubsig, caps: hello.caps };
        await store.touchBinding(hello.user, ctx.clock.now(), published);
        const owner = { name: hello.user, identityKey: hello.idk };
        if (hello.spk && !(await prekeys.storeSignedPrekey(owner, hello.spk)))
          session.log.warn({ event: 'frame.rejected', code: 'E_BAD_PROOF' }, 'hello spk ignored');
        if (hello.kemlr && !(await prekeys.storeKemLastResort(owner, hello.kemlr)))
          session.log.warn({ event: 'frame.rejected', code: 'E_BAD_PROOF' }, 'hello kemlr ignored');
      },
    },
    {
      store,
      names: ctx.names,
      ...(ctx.sharedNames ? { sharedNames: ctx.sharedNames } : {}),
      penalizedFor: (idk) => ctx.penalizedFor?.(idk) ?? 0,
      online: (name) => directory.get(name),
      now: () => ctx.clock.now(),
      stats,
    },
  ).catch(async (error: unknown) => {
    await release();
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
    return undefined;
  });
  if (!admission || session.state !== 'ready') {
    await release();
    return;
  }
  session.log.bind({ user: hello.user });
  stats.helloAccepted.inc(`v${hello.v}`);
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
  presence.joined(session);
  if (session.has(Capability.ratchet) && hello.idk)
    session.reply(await prekeys.countLine(session), 'prekeys');
  if (session.has(Capability.mailbox)) await session.mailbox.deliver();
  if (session.has(Capability.ack)) await session.mailbox.deliverFetched();
  if (session.has(Capability.rooms)) await ctx.rooms.welcome(session);
}
