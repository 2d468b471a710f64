import {
  ErrorCode,
  ProtocolError,
  type RatchetAlg,
  type SessionState,
  toBase64,
} from '../../protocol/index.js';

/** Types and small helpers of ratchet-peers.ts: what sealing and opening return. */

/** The relay fields of a sealed ratchet message. */
export interface SealedEnvelope {
  alg: string;
  header: string;
  nonce: string;
  cipher: string;
}

/** The outcome of opening a v2 relay: the text and who wrote it, or why not. */
export type OpenResult =
  | {
      ok: true;
      text: string;
      identity: string;
      /** The session was set up with PQXDH (shown as `[e2ee:pq]`). */
      pq?: boolean;
    }
  | {
      ok: false;
      code: string;
      reason: string;
      /** A replay or duplicate (shown once already): say nothing. */
      duplicate?: true;
      /** Ask the peer to drop the session in which it sent with this ratchet key. */
      reset?: { peerIdentity: string; ratchetKey: Uint8Array };
    };

/** What the caller knows about a peer when sealing for it. */
export interface SealPolicy {
  /** The identity key we trust for the peer; undefined on first contact. */
  trusted?: string;
  /** May veto a stranger's identity (an invite promised another fingerprint). */
  refuse?: (identity: string) => string | undefined;
  /** The peer's directory entry says it opens random-nonce messages. */
  randomNonce?: boolean;
  /** The peer was seen with rotating signed prekeys: a bundle without one is refused. */
  requireSignedPrekey?: boolean;
  /**
   * The peer was seen with `pq`: only a PQXDH session may carry the message (an older
   * session without it is replaced), and a bundle without a KEM prekey is refused.
   */
  requirePq?: boolean;
}

/** A ratchet relay's binary fields. */
export interface Wire {
  alg: RatchetAlg;
  header: Uint8Array;
  nonce: Uint8Array;
  cipher: Uint8Array;
}

export function fail(code: string, reason: string): Extract<OpenResult, { ok: false }> {
  return { ok: false, code, reason };
}

export function failure(error: unknown): Extract<OpenResult, { ok: false }> {
  if (!(error instanceof ProtocolError)) throw error;
  const result = fail(error.code, error.message);
  return error.code === ErrorCode.RATCHET_DUPLICATE ? { ...result, duplicate: true } : result;
}

/** Whether a session has received with this ratchet key (current, finished or skipped). */
export function knowsRatchetKey(session: SessionState, dh: Uint8Array): boolean {
  const key = toBase64(dh);
  return (
    (session.recvRatchet !== undefined && toBase64(session.recvRatchet) === key) ||
    session.previousRatchets.includes(key) ||
    session.skipped.some((k) => k.dh === key)
  );
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function decodeText(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'plaintext is not UTF-8', { cause });
  }
}
