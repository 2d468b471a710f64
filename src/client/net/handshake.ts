import {
  Capability,
  ErrorCode,
  HELLO_EXPORTER_BYTES,
  HELLO_EXPORTER_LABEL,
  SERVER_CAPS,
  type SignedPrekeyUpload,
  signHelloProof,
  signPrekey,
  toBase64,
  type X25519KeyPair,
} from '../../protocol/index.js';
import type { LocalIdentity } from '../identity/keystore.js';

/**
 * What this client offers in a v2 hello: everything a server offers, plus what only
 * clients announce to each other through the directory (random-nonce algorithms).
 */
export const CLIENT_CAPS: Capability[] = [...SERVER_CAPS, Capability.randomNonce];

/** Exports the RFC 5705 keying material a v2 hello proof signs. */
export interface ExporterSource {
  exportKeyingMaterial(length: number, label: string, context: Buffer): Buffer;
}

/**
 * The hello for a fresh connection: v1 (seed format) without an identity, else v2 with the
 * key signature, a proof bound to this TLS connection and, when we have one, the current
 * signed prekey (so the server holds it before anyone sees us in the directory).
 */
export function helloFrame(
  name: string,
  keyPair: X25519KeyPair,
  identity: LocalIdentity | undefined,
  tls: ExporterSource | undefined,
  spk?: SignedPrekeyUpload,
): Record<string, unknown> {
  const pub = toBase64(keyPair.publicKey);
  if (!identity || !tls) return { type: 'hello', user: name, pub };
  const exporter = tls.exportKeyingMaterial(
    HELLO_EXPORTER_BYTES,
    HELLO_EXPORTER_LABEL,
    Buffer.alloc(0),
  );
  const secret = identity.identity.secretKey;
  return {
    type: 'hello',
    user: name,
    pub,
    v: 2,
    caps: CLIENT_CAPS,
    idk: toBase64(identity.identity.publicKey),
    pubsig: toBase64(signPrekey(secret, keyPair.publicKey)),
    proof: toBase64(signHelloProof(secret, exporter, name)),
    ...(spk ? { spk } : {}),
  };
}

export type ServerErrorAction = 'retry' | 'fatal' | 'notice';

/** Refusals of a hello: the server will not take this name or identity on this connection. */
const HELLO_REFUSALS: ReadonlySet<string> = new Set([
  ErrorCode.NAME_TAKEN,
  ErrorCode.BAD_NAME,
  ErrorCode.NAME_BOUND,
  ErrorCode.NAME_QUOTA,
  ErrorCode.IDENTITY_REQUIRED,
  ErrorCode.BAD_PROOF,
]);

/**
 * Whether an error code means the server refused this session: its hello, or a newer
 * connection proving the same identity replaced it. The one list the session and the
 * exit code both read.
 */
export function refusesSession(code: string | undefined): boolean {
  return code !== undefined && (code === ErrorCode.REPLACED || HELLO_REFUSALS.has(code));
}

/**
 * What a server error that is not about one message means for the session:
 * - `retry`: the name is held by what is most likely our own previous, half-open connection
 *   (we were welcomed before and reconnects are on);
 * - `fatal`: the session was refused ({@link refusesSession}) before a welcome, or replaced;
 * - `notice`: anything else is shown and the session goes on.
 */
export function serverErrorAction(
  code: string | undefined,
  state: { ready: boolean; welcomedBefore: boolean; reconnects: boolean },
): ServerErrorAction {
  if (code === ErrorCode.REPLACED) return 'fatal';
  if (state.ready) return 'notice';
  if (code === ErrorCode.NAME_TAKEN && state.welcomedBefore && state.reconnects) return 'retry';
  return refusesSession(code) ? 'fatal' : 'notice';
}
