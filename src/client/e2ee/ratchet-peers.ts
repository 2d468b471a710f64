import {
  ALG_V2,
  acceptSession,
  type BundleFrame,
  concatBytes,
  decodeHeader,
  ErrorCode,
  ed25519Sign,
  ed25519Verify,
  fromBase64,
  generateX25519KeyPair,
  initiateSession,
  ProtocolError,
  type RelayFrame,
  ratchetDecrypt,
  ratchetEncrypt,
  type SessionState,
  toBase64,
} from '../../protocol/index.js';
import type { LocalIdentity } from '../keystore.js';
import type { SessionStore } from './session-store.js';

/** Envelope algorithm of a signed "I lost our session, start a new one" notice. */
export const ALG_RESET = 'X3DH+DR+RESET';
const RESET_CONTEXT = new TextEncoder().encode('securechat/v2/reset\0');
/** A reset notice older (or newer) than this is ignored: replays do not force new sessions. */
const RESET_WINDOW_MS = 10 * 60_000;

export interface SealedEnvelope {
  alg: string;
  header: string;
  nonce: string;
  cipher: string;
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
   * @throws ProtocolError `E_BAD_KEY` when the bundle's identity or signature is wrong.
   */
  async seal(
    peerName: string,
    trustedIdentity: string | undefined,
    text: string,
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
    const out = ratchetEncrypt(state, encoder.encode(text));
    this.#store.putSession(identity!, out.state, started ? undefined : state);
    return {
      envelope: {
        alg: ALG_V2,
        header: toBase64(out.header),
        nonce: toBase64(out.nonce),
        cipher: toBase64(out.ciphertext),
      },
      identity: identity!,
      started,
    };
  }

  /**
   * Decrypts a v2 relay. `expectedIdentity` is the sender's identity as we know it (directory
   * or known-peers); an init claiming another identity is refused, so the server cannot
   * re-label a message. Returns the text and the identity key that authenticated it.
   * @throws ProtocolError `E_RATCHET_DUPLICATE`, `E_RATCHET_NO_SESSION`,
   *   `E_RATCHET_UNKNOWN_PREKEY`, `E_DECRYPT_FAILED`, `E_BAD_FIELD`, `E_BAD_KEY`.
   */
  open(
    relay: RelayFrame,
    expectedIdentity: string | undefined,
  ): { text: string; identity: string } {
    if (!relay.header) throw new ProtocolError(ErrorCode.BAD_FIELD, 'v2 relay without a header');
    const headerBytes = fromBase64(relay.header, 'header');
    const nonce = fromBase64(relay.nonce, 'nonce', 12);
    const cipher = fromBase64(relay.cipher, 'cipher');
    const header = decodeHeader(headerBytes);
    const identity = header.init ? toBase64(header.init.identityKey) : expectedIdentity;
    if (identity === undefined)
      throw new ProtocolError(ErrorCode.RATCHET_NO_SESSION, 'no session with this sender');
    if (expectedIdentity !== undefined && identity !== expectedIdentity) {
      throw new ProtocolError(
        ErrorCode.BAD_KEY,
        'the message claims another identity than the sender’s',
      );
    }
    const sessions = this.#store.sessions(identity);
    let failure: unknown;
    for (const session of sessions) {
      if (
        header.init &&
        toBase64(session.initEphemeral) !== toBase64(header.init.ephemeralKey) &&
        session.recvChain === undefined
      ) {
        continue;
      }
      try {
        const out = ratchetDecrypt(session, headerBytes, nonce, cipher);
        this.#store.putSession(identity, out.state, session);
        return { text: decodeText(out.plaintext), identity };
      } catch (error) {
        if (error instanceof ProtocolError && error.code === ErrorCode.RATCHET_DUPLICATE)
          throw error;
        failure = error;
      }
    }
    if (header.init) {
      const existing = sessions.find(
        (s) => toBase64(s.initEphemeral) === toBase64(header.init!.ephemeralKey),
      );
      if (existing)
        throw (
          failure ?? new ProtocolError(ErrorCode.DECRYPT_FAILED, 'message authentication failed')
        );
      if (this.#store.seenInit(header.init.ephemeralKey)) {
        throw new ProtocolError(
          ErrorCode.RATCHET_DUPLICATE,
          'this session setup was already used (replay)',
        );
      }
      const prekeyId = header.init.oneTimePrekeyId;
      const fresh = acceptSession(
        this.#identity.identity,
        this.#identity.x25519,
        header.init,
        prekeyId === undefined ? undefined : this.#store.oneTimePrekey(prekeyId),
      );
      const out = ratchetDecrypt(fresh, headerBytes, nonce, cipher);
      if (prekeyId !== undefined) this.#store.useOneTimePrekey(prekeyId);
      this.#store.putSession(identity, out.state);
      return { text: decodeText(out.plaintext), identity };
    }
    if (sessions.length === 0)
      throw new ProtocolError(ErrorCode.RATCHET_NO_SESSION, 'no session with this sender');
    throw failure;
  }

  /** A signed notice asking `peerIdentity` to drop our sessions and start a new one. */
  resetNotice(peerIdentity: string, now = Date.now()): SealedEnvelope {
    const time = new Uint8Array(8);
    new DataView(time.buffer).setBigUint64(0, BigInt(now));
    const message = concatBytes(
      RESET_CONTEXT,
      this.#identity.identity.publicKey,
      fromBase64(peerIdentity, 'idk', 32),
      time,
    );
    const signature = ed25519Sign(this.#identity.identity.secretKey, message);
    return {
      alg: ALG_RESET,
      header: toBase64(concatBytes(time, signature)),
      nonce: toBase64(new Uint8Array(12)),
      cipher: toBase64(new Uint8Array(16)),
    };
  }

  /** Verifies a reset notice from `senderIdentity`; on success our sessions with it are dropped. */
  acceptReset(relay: RelayFrame, senderIdentity: string, now = Date.now()): boolean {
    if (!relay.header) return false;
    const bytes = fromBase64(relay.header, 'header');
    if (bytes.length !== 72) return false;
    const time = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0));
    if (Math.abs(now - time) > RESET_WINDOW_MS) return false;
    const message = concatBytes(
      RESET_CONTEXT,
      fromBase64(senderIdentity, 'idk', 32),
      this.#identity.identity.publicKey,
      bytes.subarray(0, 8),
    );
    if (!ed25519Verify(fromBase64(senderIdentity, 'idk', 32), message, bytes.subarray(8)))
      return false;
    this.#store.dropSessions(senderIdentity);
    return true;
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
