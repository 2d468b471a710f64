import {
  ErrorCode,
  fromBase64,
  HELLO_EXPORTER_BYTES,
  HELLO_EXPORTER_LABEL,
  type HelloFrame,
  verifyHello,
} from '../protocol/index.js';
import type { Logger } from './logger.js';
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
  online(name: string): H | undefined;
  /** RFC 5705 exporter of this connection (undefined when the transport has none). */
  exporter(): Uint8Array | undefined;
  now(): number;
}

const EMPTY_CONTEXT = new Uint8Array(0);

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
 *   another identity key is refused (`E_NAME_BOUND`); an unbound name is bound on first use;
 *   a name online under the same identity is handed over to this newer connection.
 * - v1: allowed only for unbound names that are not online.
 */
export function admit<H extends OnlineHolder>(
  hello: HelloFrame,
  ctx: AdmissionContext<H>,
): Admission<H> {
  const binding = ctx.store.getBinding(hello.user);
  const holder = ctx.online(hello.user);
  if (
    hello.v < 2 ||
    hello.idk === undefined ||
    hello.pubsig === undefined ||
    hello.proof === undefined
  ) {
    if (binding) {
      return {
        ok: false,
        code: ErrorCode.IDENTITY_REQUIRED,
        text: `the name "${hello.user}" is registered to an identity key: connect with a v2 client that proves it`,
        reason: 'identity_required',
        takeover: true,
      };
    }
    if (holder) return nameTaken(hello.user);
    return { ok: true, bound: 'none' };
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
  if (binding && binding.identityKey !== hello.idk) {
    return {
      ok: false,
      code: ErrorCode.NAME_BOUND,
      text: `the name "${hello.user}" is registered to another identity key`,
      reason: 'name_bound',
      takeover: true,
    };
  }
  if (holder && holder.identityKey !== hello.idk) return nameTaken(hello.user);
  let bound: 'new' | 'existing' = 'existing';
  if (!binding) {
    const result = ctx.store.bindName(hello.user, hello.idk, ctx.now());
    if (result.binding.identityKey !== hello.idk) {
      return {
        ok: false,
        code: ErrorCode.NAME_BOUND,
        text: `the name "${hello.user}" is registered to another identity key`,
        reason: 'name_bound',
        takeover: true,
      };
    }
    bound = 'new';
  } else {
    ctx.store.touchBinding(hello.user, ctx.now());
  }
  return holder ? { ok: true, bound, replaces: holder } : { ok: true, bound };
}

function nameTaken(name: string): {
  ok: false;
  code: ErrorCode;
  text: string;
  reason: string;
  takeover: boolean;
} {
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
  logger: Logger,
  stats: ServerStats,
): void {
  stats.helloRefused.inc(refusal.reason);
  logger.warn(
    { event: 'hello.refused', reason: refusal.reason, user: hello.user, v: hello.v },
    refusal.text,
  );
  if (refusal.takeover) {
    stats.securityEvents.inc('name_takeover_attempt');
    logger.warn({ event: 'name.takeover_attempt', user: hello.user, code: refusal.code });
  }
}
