import {
  concatBytes,
  ed25519Sign,
  ed25519Verify,
  fromBase64,
  type IdentityKeyPair,
  toBase64,
} from '../../protocol/index.js';

/** Envelope algorithm of a signed "I lost this session of ours, start a new one" notice. */
export const ALG_RESET = 'X3DH+DR+RESET';
/** Domain separation of a reset bound to one session (the unbound v1 form used another). */
const RESET_CONTEXT = new TextEncoder().encode('securechat/v2/reset-session\0');
/** A reset whose time is further than this from ours is ignored (clock skew allowance). */
export const RESET_WINDOW_MS = 10 * 60_000;
/** We send at most one reset per peer session (its ratchet key) in this interval. */
export const RESET_INTERVAL_MS = 60 * 60_000;
/** And at most this many per peer in that interval, whatever keys the messages named. */
export const MAX_RESETS_PER_PEER = 4;
/** time (8) ‖ ratchet key (32) ‖ signature (64). */
const RESET_HEADER_BYTES = 8 + 32 + 64;
/** The older, unbound form: time (8) ‖ signature (64). */
const LEGACY_RESET_HEADER_BYTES = 8 + 64;

export interface SealedEnvelope {
  alg: string;
  header: string;
  nonce: string;
  cipher: string;
}

function resetMessage(
  sender: Uint8Array,
  receiver: Uint8Array,
  time: Uint8Array,
  ratchetKey: Uint8Array,
): Uint8Array {
  return concatBytes(RESET_CONTEXT, sender, receiver, time, ratchetKey);
}

/**
 * A reset notice for the session in which the peer sent with `ratchetKey` (the ratchet key
 * of the message we could not decrypt), signed by our identity: header = time (u64 ms) ‖
 * ratchet key ‖ Ed25519 over context ‖ our identity ‖ the peer's identity ‖ time ‖ key.
 */
export function signReset(
  own: IdentityKeyPair,
  peerIdentity: string,
  ratchetKey: Uint8Array,
  now: number,
): SealedEnvelope {
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(now));
  const signature = ed25519Sign(
    own.secretKey,
    resetMessage(own.publicKey, fromBase64(peerIdentity, 'idk', 32), time, ratchetKey),
  );
  return {
    alg: ALG_RESET,
    header: toBase64(concatBytes(time, ratchetKey, signature)),
    nonce: toBase64(new Uint8Array(12)),
    cipher: toBase64(new Uint8Array(16)),
  };
}

export type ReadReset =
  | { kind: 'bound'; time: number; ratchetKey: Uint8Array; sender: string }
  | { kind: 'legacy' }
  | { kind: 'invalid' };

/**
 * Verifies a reset notice against each identity the sender may have (`candidates`,
 * Base64) and our own identity key. The older unbound form names no session: `legacy`.
 */
export function readReset(
  header: string | undefined,
  candidates: readonly string[],
  ownIdentity: Uint8Array,
): ReadReset {
  if (header === undefined) return { kind: 'invalid' };
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(header, 'header');
  } catch {
    return { kind: 'invalid' };
  }
  if (bytes.length === LEGACY_RESET_HEADER_BYTES) return { kind: 'legacy' };
  if (bytes.length !== RESET_HEADER_BYTES) return { kind: 'invalid' };
  const time = bytes.subarray(0, 8);
  const ratchetKey = bytes.slice(8, 40);
  const signature = bytes.subarray(40);
  for (const sender of candidates) {
    const senderKey = fromBase64(sender, 'idk', 32);
    if (
      ed25519Verify(senderKey, resetMessage(senderKey, ownIdentity, time, ratchetKey), signature)
    ) {
      return {
        kind: 'bound',
        time: Number(new DataView(time.buffer, time.byteOffset).getBigUint64(0)),
        ratchetKey,
        sender,
      };
    }
  }
  return { kind: 'invalid' };
}

/**
 * How often we answer undecryptable messages with a reset: once per peer session (the
 * ratchet key named) per interval, and a few per peer, so a server replaying or inventing
 * messages cannot make us sign resets at will. Bounded in memory.
 */
export class ResetLimiter {
  #sent = new Map<string, number>();
  #perPeer = new Map<string, number[]>();
  #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  allow(peerIdentity: string, ratchetKey: Uint8Array, now: number): boolean {
    const key = `${peerIdentity}|${toBase64(ratchetKey)}`;
    const last = this.#sent.get(key);
    if (last !== undefined && now - last < RESET_INTERVAL_MS) return false;
    const recent = (this.#perPeer.get(peerIdentity) ?? []).filter(
      (t) => now - t < RESET_INTERVAL_MS,
    );
    if (recent.length >= MAX_RESETS_PER_PEER) return false;
    if (this.#sent.size >= this.#max) this.#sent.clear();
    if (this.#perPeer.size >= this.#max) this.#perPeer.clear();
    this.#sent.set(key, now);
    this.#perPeer.set(peerIdentity, [...recent, now]);
    return true;
  }
}
