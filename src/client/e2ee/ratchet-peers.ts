import {
  ALG_V2,
  acceptSession,
  type BundleFrame,
  decodeHeader,
  ErrorCode,
  fromBase64,
  generateX25519KeyPair,
  initiateSession,
  isRatchetAlg,
  ProtocolError,
  type RatchetAlg,
  type RatchetHeader,
  type RelayFrame,
  ratchetDecrypt,
  ratchetEncrypt,
  type SessionState,
  toBase64,
  type X3dhInit,
} from '../../protocol/index.js';
import type { LocalIdentity } from '../keystore.js';
import {
  RESET_WINDOW_MS,
  ResetLimiter,
  readReset,
  type SealedEnvelope,
  signReset,
} from './session-resets.js';
import type { SessionStore } from './session-store.js';

export { ALG_RESET, type SealedEnvelope } from './session-resets.js';

/** The outcome of opening a v2 relay: the text and who wrote it, or why not. */
export type OpenResult =
  | { ok: true; text: string; identity: string }
  | {
      ok: false;
      code: string;
      reason: string;
      /** A replay or duplicate (shown once already): say nothing. */
      duplicate?: true;
      /** Ask the peer to drop the session in which it sent with this ratchet key. */
      reset?: { peerIdentity: string; ratchetKey: Uint8Array };
    };

function fail(code: string, reason: string): Extract<OpenResult, { ok: false }> {
  return { ok: false, code, reason };
}

function failure(error: unknown): Extract<OpenResult, { ok: false }> {
  if (!(error instanceof ProtocolError)) throw error;
  const result = fail(error.code, error.message);
  return error.code === ErrorCode.RATCHET_DUPLICATE ? { ...result, duplicate: true } : result;
}

/** Whether a session has received with this ratchet key (current, finished or skipped). */
function knowsRatchetKey(session: SessionState, dh: Uint8Array): boolean {
  const key = toBase64(dh);
  return (
    (session.recvRatchet !== undefined && toBase64(session.recvRatchet) === key) ||
    session.previousRatchets.includes(key) ||
    session.skipped.some((k) => k.dh === key)
  );
}

/** A ratchet relay's binary fields. */
interface Wire {
  alg: RatchetAlg;
  header: Uint8Array;
  nonce: Uint8Array;
  cipher: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Pairwise forward-secret sessions (X3DH + Double Ratchet) of one local identity: sealing
 * (starting a session from a prekey bundle when needed), opening (accepting X3DH inits,
 * trying every session kept for the peer), and signed session resets. Every state change is
 * persisted by the SessionStore before the result is used.
 */
export class RatchetPeers {
  #identity: LocalIdentity;
  #store: SessionStore;
  #requestBundle: (user: string) => Promise<BundleFrame>;
  #resets = new ResetLimiter();

  constructor(
    identity: LocalIdentity,
    store: SessionStore,
    requestBundle: (user: string) => Promise<BundleFrame>,
  ) {
    this.#identity = identity;
    this.#store = store;
    this.#requestBundle = requestBundle;
  }

  hasSession(peerIdentity: string): boolean {
    return this.#store.sessions(peerIdentity).length > 0;
  }

  /**
   * Encrypts for a peer. Without a session, asks the server for the peer's bundle (works
   * while the peer is offline) and checks that it carries the identity key we trust.
   * `refuse` may veto a stranger's identity (an invite promised another fingerprint).
   * @throws ProtocolError `E_BAD_KEY` when the bundle's identity or signature is wrong.
   */
  async seal(
    peerName: string,
    trustedIdentity: string | undefined,
    text: string,
    refuse?: (identity: string) => string | undefined,
  ): Promise<{ envelope: SealedEnvelope; identity: string; started: boolean }> {
    let identity = trustedIdentity;
    let state = identity ? this.#store.sessions(identity)[0] : undefined;
    let started = false;
    if (!state?.sendChain) {
      const bundle = await this.#requestBundle(peerName);
      if (identity !== undefined && bundle.idk !== identity) {
        throw new ProtocolError(
          ErrorCode.BAD_KEY,
          `the server offered another identity key for ${peerName} than the one you trust`,
        );
      }
      const refusal = identity === undefined ? refuse?.(bundle.idk) : undefined;
      if (refusal !== undefined) throw new ProtocolError(ErrorCode.BAD_KEY, refusal);
      identity = bundle.idk;
      state = initiateSession(this.#identity.identity, {
        identityKey: fromBase64(bundle.idk, 'idk', 32),
        signedPrekey: fromBase64(bundle.pub, 'pub', 32),
        signedPrekeySignature: fromBase64(bundle.sig, 'sig', 64),
        ...(bundle.opk
          ? {
              oneTimePrekey: {
                id: bundle.opk.id,
                publicKey: fromBase64(bundle.opk.pub, 'opk', 32),
              },
            }
          : {}),
      });
      started = true;
    }
    const out = ratchetEncrypt(state, encoder.encode(text), { alg: ALG_V2 });
    this.#store.putSession(identity!, out.state, started ? undefined : state);
    return {
      envelope: {
        alg: out.alg,
        header: toBase64(out.header),
        nonce: toBase64(out.nonce),
        cipher: toBase64(out.ciphertext),
      },
      identity: identity!,
      started,
    };
  }

  /**
   * Decrypts a v2 relay from a sender who may hold one of `candidates` (identity keys,
   * Base64: the one we remember first, then the one listed; empty for a stranger, whose
   * init is taken on first use). Nothing that fails changes any state: an init is accepted,
   * and recorded as seen, only after its AEAD check. A message in a session we do not
   * have (its ratchet key unknown to us) asks for a reset bound to that session; an init
   * we cannot open never does (anyone can forge one).
   */
  open(relay: RelayFrame, candidates: readonly string[]): OpenResult {
    let header: RatchetHeader;
    let bytes: Wire;
    try {
      if (!relay.header) throw new ProtocolError(ErrorCode.BAD_FIELD, 'v2 relay without a header');
      if (!isRatchetAlg(relay.alg))
        throw new ProtocolError(ErrorCode.BAD_FIELD, `unsupported algorithm "${relay.alg}"`);
      bytes = {
        alg: relay.alg,
        header: fromBase64(relay.header, 'header'),
        nonce: fromBase64(relay.nonce, 'nonce', 12),
        cipher: fromBase64(relay.cipher, 'cipher'),
      };
      header = decodeHeader(bytes.header);
    } catch (error) {
      return failure(error);
    }
    return header.init
      ? this.#openInit(header.init, bytes, candidates)
      : this.#openInSession(header, bytes, candidates);
  }

  #openInit(init: X3dhInit, bytes: Wire, candidates: readonly string[]): OpenResult {
    const identity = toBase64(init.identityKey);
    if (candidates.length > 0 && !candidates.includes(identity)) {
      return fail(ErrorCode.BAD_KEY, 'the message claims another identity than the sender’s');
    }
    const ephemeral = toBase64(init.ephemeralKey);
    const existing = this.#store
      .sessions(identity)
      .find((s) => toBase64(s.initEphemeral) === ephemeral);
    try {
      if (existing) {
        const out = ratchetDecrypt(existing, bytes.header, bytes.nonce, bytes.cipher, {
          alg: bytes.alg,
        });
        this.#store.putSession(identity, out.state, existing);
        return { ok: true, text: decodeText(out.plaintext), identity };
      }
      if (this.#store.hasSeenInit(identity, init.ephemeralKey, init.signedPrekey)) {
        return {
          ...fail(ErrorCode.RATCHET_DUPLICATE, 'this session setup was already used (replay)'),
          duplicate: true,
        };
      }
      const prekeyId = init.oneTimePrekeyId;
      const fresh = acceptSession(
        this.#identity.identity,
        this.#identity.x25519,
        init,
        prekeyId === undefined ? undefined : this.#store.oneTimePrekey(prekeyId),
      );
      const out = ratchetDecrypt(fresh, bytes.header, bytes.nonce, bytes.cipher, {
        alg: bytes.alg,
      });
      const text = decodeText(out.plaintext);
      // Authenticated: only now does anything change.
      this.#store.recordInit(identity, init.ephemeralKey, init.signedPrekey);
      if (prekeyId !== undefined) this.#store.useOneTimePrekey(prekeyId);
      this.#store.putSession(identity, out.state);
      return { ok: true, text, identity };
    } catch (error) {
      return failure(error);
    }
  }

  #openInSession(header: RatchetHeader, bytes: Wire, candidates: readonly string[]): OpenResult {
    let last: OpenResult | undefined;
    for (const identity of candidates) {
      for (const session of this.#store.sessions(identity)) {
        try {
          const out = ratchetDecrypt(session, bytes.header, bytes.nonce, bytes.cipher, {
            alg: bytes.alg,
          });
          this.#store.putSession(identity, out.state, session);
          return { ok: true, text: decodeText(out.plaintext), identity };
        } catch (error) {
          last = failure(error);
          if (last.ok === false && last.duplicate) return last;
        }
      }
    }
    if (candidates.length === 0)
      return fail(ErrorCode.RATCHET_NO_SESSION, 'no session with this sender');
    const known = candidates.some((identity) =>
      this.#store.sessions(identity).some((s) => knowsRatchetKey(s, header.dh)),
    );
    if (known && last) return last; // our session, tampered with: no reset
    return {
      ...fail(
        ErrorCode.RATCHET_NO_SESSION,
        last
          ? 'it belongs to a session this client does not have'
          : 'this client has no session with the sender',
      ),
      reset: { peerIdentity: candidates[0]!, ratchetKey: header.dh },
    };
  }

  /**
   * A signed notice asking the peer to drop the session in which it sent with `ratchetKey`;
   * undefined when we already asked for that session recently (or for too many).
   */
  resetNotice(
    peerIdentity: string,
    ratchetKey: Uint8Array,
    now = Date.now(),
  ): SealedEnvelope | undefined {
    if (!this.#resets.allow(peerIdentity, ratchetKey, now)) return undefined;
    return signReset(this.#identity.identity, peerIdentity, ratchetKey, now);
  }

  /**
   * A reset from a sender who may hold one of `candidates`: verified, not older than the
   * last one accepted from it (persisted), within the clock window, and naming one of our
   * sessions with it (by the ratchet key we sent with, or the init's ephemeral key). Only
   * that session is dropped.
   */
  acceptReset(
    relay: RelayFrame,
    candidates: readonly string[],
    now = Date.now(),
  ): 'accepted' | 'legacy' | 'ignored' {
    const reset = readReset(relay.header, candidates, this.#identity.identity.publicKey);
    if (reset.kind !== 'bound') return reset.kind === 'legacy' ? 'legacy' : 'ignored';
    if (Math.abs(now - reset.time) > RESET_WINDOW_MS) return 'ignored';
    if (reset.time <= this.#store.lastReset(reset.sender)) return 'ignored';
    const named = toBase64(reset.ratchetKey);
    const session = this.#store
      .sessions(reset.sender)
      .find(
        (s) => toBase64(s.sendRatchet.publicKey) === named || toBase64(s.initEphemeral) === named,
      );
    if (!session) return 'ignored';
    this.#store.setLastReset(reset.sender, reset.time);
    this.#store.dropSession(reset.sender, session);
    return 'accepted';
  }

  /**
   * One-time prekeys to upload, given how many the server holds: a top-up below `low`, or a
   * full replacement when the server holds more than we have secrets for (this client lost
   * its session store: those prekeys would make first messages undecryptable).
   */
  replenish(
    storedOnServer: number,
    low = 20,
    target = 100,
  ): { keys: Array<{ id: number; pub: string }>; replace: boolean } {
    if (storedOnServer > this.#store.oneTimePrekeyCount) {
      return {
        keys: this.#store.newOneTimePrekeys(target, () => generateX25519KeyPair()),
        replace: true,
      };
    }
    if (storedOnServer >= low) return { keys: [], replace: false };
    return {
      keys: this.#store.newOneTimePrekeys(target - storedOnServer, () => generateX25519KeyPair()),
      replace: false,
    };
  }
}

function decodeText(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'plaintext is not UTF-8', { cause });
  }
}

export type { SessionState };
