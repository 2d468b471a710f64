import {
  ALG_V2,
  ALG_V2_RN,
  acceptSession,
  type BundleFrame,
  constantTimeEqual,
  decodeHeader,
  ErrorCode,
  fromBase64,
  initiateSession,
  isRatchetAlg,
  ProtocolError,
  type RatchetHeader,
  type RelayFrame,
  type ResetEnvelope,
  ratchetDecrypt,
  ratchetEncrypt,
  readReset,
  type SessionState,
  signReset,
  toBase64,
  type X3dhInit,
} from '../../protocol/index.js';
import type { LocalIdentity } from '../identity/keystore.js';
import { checkBundle, opensRandomNonce } from './bundle-check.js';
import type { ClientState } from './client-state.js';
import {
  decodeText,
  fail,
  failure,
  knowsRatchetKey,
  type OpenResult,
  type SealedEnvelope,
  type SealPolicy,
  type Wire,
} from './ratchet-results.js';
import { RESET_WINDOW_MS, ResetLimiter } from './session-resets.js';
import type { SessionRecord } from './session-store.js';

const encoder = new TextEncoder();

/**
 * Pairwise forward-secret sessions (X3DH + Double Ratchet) of one local identity: sealing
 * (starting a session from a checked prekey bundle when needed), opening (accepting X3DH
 * inits made for our current or previous signed prekey, or the hello key of older peers;
 * trying every session kept for the peer), and signed session resets. Every state change is
 * committed to the state store before the result is used.
 *
 * Messages go out under a random nonce to peers that open it. Under the derived nonce
 * (older peers) a sending chain is never continued in another run of the client: whatever
 * state was restored, no (key, nonce) pair is used twice.
 */
export class RatchetPeers {
  #identity: LocalIdentity;
  #state: ClientState;
  #requestBundle: (user: string) => Promise<BundleFrame>;
  #now: () => number;
  #resets = new ResetLimiter();

  constructor(
    identity: LocalIdentity,
    state: ClientState,
    requestBundle: (user: string) => Promise<BundleFrame>,
    now: () => number = Date.now,
  ) {
    this.#identity = identity;
    this.#state = state;
    this.#requestBundle = requestBundle;
    this.#now = now;
  }

  get state(): ClientState {
    return this.#state;
  }

  hasSession(peerIdentity: string): boolean {
    return this.#state.sessions.sessions(peerIdentity).length > 0;
  }

  /** Whether `record` may send now under the chosen nonce scheme. */
  #canSend(record: SessionRecord | undefined, randomNonce: boolean): record is SessionRecord {
    if (!record?.state.sendChain || record.stale) return false;
    return randomNonce || record.sendRun === this.#state.sessions.runId;
  }

  /**
   * Encrypts for a peer. Without a session we may send in, asks the server for the peer's
   * bundle (works while the peer is offline), checks it (identity, signed prekey signature,
   * age, downgrade) and starts a new one.
   * @throws ProtocolError `E_BAD_KEY` when the bundle is refused.
   */
  async seal(
    peerName: string,
    text: string,
    policy: SealPolicy = {},
  ): Promise<{ envelope: SealedEnvelope; identity: string; started: boolean; pq?: boolean }> {
    const sessions = this.#state.sessions;
    let identity = policy.trusted;
    const current = identity ? sessions.sessions(identity)[0] : undefined;
    let randomNonce = policy.randomNonce === true || current?.rn === true;
    let record = this.#canSend(current, randomNonce) ? current : undefined;
    // Seen with pq: a session set up before (X3DH) is not continued; a PQXDH one replaces it.
    if (policy.requirePq && record && record.state.pq !== true) record = undefined;
    let state = record?.state;
    if (!state) {
      const bundle = await this.#requestBundle(peerName);
      if (identity !== undefined && bundle.idk !== identity) {
        throw new ProtocolError(
          ErrorCode.BAD_KEY,
          `the server offered another identity key for ${peerName} than the one you trust`,
        );
      }
      const refusal = identity === undefined ? policy.refuse?.(bundle.idk) : undefined;
      if (refusal !== undefined) throw new ProtocolError(ErrorCode.BAD_KEY, refusal);
      const checked = checkBundle(
        bundle,
        this.#now(),
        policy.requireSignedPrekey === true,
        policy.requirePq === true,
      );
      identity = bundle.idk;
      randomNonce ||= opensRandomNonce(bundle.caps);
      state = initiateSession(this.#identity.identity, checked);
      record = undefined;
    }
    const out = ratchetEncrypt(state, encoder.encode(text), {
      alg: randomNonce ? ALG_V2_RN : ALG_V2,
    });
    sessions.put(identity!, out.state, record, { firstContact: false, rn: randomNonce });
    return {
      envelope: {
        alg: out.alg,
        header: toBase64(out.header),
        nonce: toBase64(out.nonce),
        cipher: toBase64(out.ciphertext),
      },
      identity: identity!,
      started: record === undefined,
      pq: out.state.pq === true,
    };
  }

  /**
   * Decrypts a v2 relay from a sender who may hold one of `candidates` (identity keys,
   * Base64: the one we remember first, then the one listed; empty for a stranger, whose
   * init is taken on first use; `firstContact`: the sender is not verified, so a session it
   * opens is first-contact state until we answer in it).
   * Nothing that fails changes any state: an init is accepted, and recorded as seen, only
   * after its AEAD check. A message in a session we do not have asks for a reset bound to
   * that session; an init we cannot open never does (anyone can forge one).
   */
  open(
    relay: RelayFrame,
    candidates: readonly string[],
    options: { firstContact?: boolean; requirePq?: boolean } = {},
  ): OpenResult {
    let header: RatchetHeader;
    let wire: Wire;
    try {
      if (!relay.header) throw new ProtocolError(ErrorCode.BAD_FIELD, 'v2 relay without a header');
      if (!isRatchetAlg(relay.alg))
        throw new ProtocolError(ErrorCode.BAD_FIELD, `unsupported algorithm "${relay.alg}"`);
      wire = {
        alg: relay.alg,
        header: fromBase64(relay.header, 'header'),
        nonce: fromBase64(relay.nonce, 'nonce', 12),
        cipher: fromBase64(relay.cipher, 'cipher'),
      };
      header = decodeHeader(wire.header);
    } catch (error) {
      return failure(error);
    }
    return header.init
      ? this.#openInit(
          header.init,
          wire,
          candidates,
          options.firstContact === true,
          options.requirePq === true,
        )
      : this.#openInSession(header, wire, candidates);
  }

  #decrypt(state: SessionState, wire: Wire) {
    return ratchetDecrypt(state, wire.header, wire.nonce, wire.cipher, {
      alg: wire.alg,
      now: this.#now(),
    });
  }

  #openInit(
    init: X3dhInit,
    wire: Wire,
    candidates: readonly string[],
    firstContact: boolean,
    requirePq: boolean,
  ): OpenResult {
    const { sessions, prekeys, kemPrekeys, replay, db } = this.#state;
    const identity = toBase64(init.identityKey);
    if (candidates.length > 0 && !candidates.includes(identity)) {
      return fail(ErrorCode.BAD_KEY, 'the message claims another identity than the sender’s');
    }
    const ephemeral = toBase64(init.ephemeralKey);
    const existing = sessions
      .sessions(identity)
      .find((s) => toBase64(s.state.initEphemeral) === ephemeral);
    const rn = wire.alg === ALG_V2_RN;
    try {
      if (existing) {
        const out = this.#decrypt(existing.state, wire);
        sessions.put(identity, out.state, existing, { rn });
        return { ok: true, text: decodeText(out.plaintext), identity, pq: out.state.pq === true };
      }
      if (requirePq && !init.kem) {
        return fail(
          ErrorCode.BAD_KEY,
          'the sender was seen with post-quantum session setup (pq), but this new session has none: refused as a downgrade',
        );
      }
      if (replay.hasSeenInit(identity, init.ephemeralKey, init.signedPrekey)) {
        return {
          ...fail(ErrorCode.RATCHET_DUPLICATE, 'this session setup was already used (replay)'),
          duplicate: true,
        };
      }
      const signedPrekey =
        prekeys.signedPrekeyFor(init.signedPrekey) ??
        (constantTimeEqual(init.signedPrekey, this.#identity.x25519.publicKey)
          ? this.#identity.x25519 // the hello key: older initiators and servers without spk
          : undefined);
      if (!signedPrekey) {
        return fail(
          ErrorCode.RATCHET_UNKNOWN_PREKEY,
          'the message was made for a signed prekey this client no longer holds (its secret was deleted after rotation)',
        );
      }
      const prekeyId = init.oneTimePrekeyId;
      const kem = init.kem && kemPrekeys.keyPair(init.kem.id);
      const fresh = acceptSession(
        this.#identity.identity,
        signedPrekey,
        init,
        prekeyId === undefined ? undefined : prekeys.oneTimePrekey(prekeyId),
        kem?.secretKey,
      );
      const out = this.#decrypt(fresh, wire);
      const text = decodeText(out.plaintext);
      // Authenticated: only now does anything change, in one transaction.
      db.write(() => {
        replay.recordInit(identity, init.ephemeralKey, init.signedPrekey);
        if (prekeyId !== undefined) prekeys.useOneTimePrekey(prekeyId);
        if (init.kem && kem?.oneTime) kemPrekeys.use(init.kem.id);
        sessions.put(identity, out.state, undefined, {
          // A peer we already answered in another session is no stranger.
          firstContact: firstContact && sessions.sessions(identity).every((r) => r.firstContact),
          rn,
        });
      });
      return { ok: true, text, identity, pq: out.state.pq === true };
    } catch (error) {
      return failure(error);
    }
  }

  #openInSession(header: RatchetHeader, wire: Wire, candidates: readonly string[]): OpenResult {
    const sessions = this.#state.sessions;
    let last: OpenResult | undefined;
    for (const identity of candidates) {
      for (const record of sessions.sessions(identity)) {
        try {
          const out = this.#decrypt(record.state, wire);
          sessions.put(identity, out.state, record, { rn: wire.alg === ALG_V2_RN });
          return {
            ok: true,
            text: decodeText(out.plaintext),
            identity,
            pq: out.state.pq === true,
          };
        } catch (error) {
          last = failure(error);
          if (last.ok === false && last.duplicate) return last;
        }
      }
    }
    if (candidates.length === 0)
      return fail(ErrorCode.RATCHET_NO_SESSION, 'no session with this sender');
    const known = candidates.some((identity) =>
      sessions.sessions(identity).some((s) => knowsRatchetKey(s.state, header.dh)),
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
    now = this.#now(),
  ): ResetEnvelope | undefined {
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
    now = this.#now(),
  ): 'accepted' | 'legacy' | 'ignored' {
    const { sessions, replay, db } = this.#state;
    const reset = readReset(relay.header, candidates, this.#identity.identity.publicKey);
    if (reset.kind !== 'bound') return reset.kind === 'legacy' ? 'legacy' : 'ignored';
    if (Math.abs(now - reset.time) > RESET_WINDOW_MS) return 'ignored';
    if (reset.time <= replay.lastReset(reset.sender)) return 'ignored';
    const named = toBase64(reset.ratchetKey);
    const record = sessions
      .sessions(reset.sender)
      .find(
        (s) =>
          toBase64(s.state.sendRatchet.publicKey) === named ||
          toBase64(s.state.initEphemeral) === named,
      );
    if (!record) return 'ignored';
    db.write(() => {
      replay.setLastReset(reset.sender, reset.time);
      sessions.drop(record);
    });
    return 'accepted';
  }

  /**
   * Housekeeping on our own clock: rotates the signed prekey when due and deletes the
   * previous one's secret after its retention (with the inits recorded for it), and expires
   * old skipped keys. Returns whether the signed prekey changed (it must be uploaded).
   */
  maintain(force = false): { rotated: boolean; expired: number } {
    const { prekeys, kemPrekeys, replay, sessions, db } = this.#state;
    const rotated = db.write(() => {
      const outcome = prekeys.maintain(force);
      for (const publicKey of outcome.deleted) replay.forgetInitsFor(publicKey);
      // The last-resort KEM prekey follows the signed prekey's schedule.
      return kemPrekeys.maintain(force) || outcome.rotated;
    });
    return { rotated, expired: sessions.expireSkipped() };
  }
}

export type { OpenResult, SealedEnvelope, SealPolicy, SessionState };
