/**
 * Session resets: a signed "I lost this session of ours, start a new one" notice a client
 * sends in a relay (`alg` {@link ALG_RESET}) when a peer's message belongs to a session it
 * no longer has. Its format, writer and reader side by side; when a client sends or accepts
 * one (how often, how old) is client policy.
 */
import { fromBase64, toBase64 } from './base64.js';
import { ed25519Verify } from './ed25519-verify.js';
import { concatBytes, ed25519Sign, type IdentityKeyPair } from './identity.js';

/** Envelope algorithm of a session reset notice. */
export const ALG_RESET = 'X3DH+DR+RESET';
/** Domain separation of a reset bound to one session (the unbound v1 form used another). */
const RESET_CONTEXT = new TextEncoder().encode('securechat/v2/reset-session\0');
/** time (8) ‖ ratchet key (32) ‖ signature (64). */
const RESET_HEADER_BYTES = 8 + 32 + 64;
/** The older, unbound form: time (8) ‖ signature (64). */
const LEGACY_RESET_HEADER_BYTES = 8 + 64;

/** The relay fields of a reset notice (`nonce` and `cipher` are zeros: nothing is encrypted). */
export interface ResetEnvelope {
  alg: typeof ALG_RESET;
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
 * @param peerIdentity the peer's identity key, Base64.
 * @throws ProtocolError `E_BAD_FIELD` when `peerIdentity` is not a 32-byte key.
 */
export function signReset(
  own: IdentityKeyPair,
  peerIdentity: string,
  ratchetKey: Uint8Array,
  now: number,
): ResetEnvelope {
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

/** A reset read: bound to a session (verified), the older unbound form, or not valid. */
export type ReadReset =
  | { kind: 'bound'; time: number; ratchetKey: Uint8Array; sender: string }
  | { kind: 'legacy' }
  | { kind: 'invalid' };

/**
 * Verifies a reset notice's header against each identity the sender may have
 * (`candidates`, Base64) and our own identity key. The older unbound form names no
 * session: `legacy`; a header that is malformed or signed by none of them: `invalid`.
 * @throws ProtocolError `E_BAD_FIELD` when a candidate is not a 32-byte key.
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
