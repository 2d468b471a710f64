import { toBase64 } from '../base64.js';
import {
  aesGcmOpen,
  aesGcmSeal,
  generateX25519KeyPair,
  type RandomSource,
  secureRandom,
  x25519SharedSecret,
} from '../crypto.js';
import { ErrorCode, ProtocolError } from '../errors.js';
import { concatBytes } from '../identity.js';
import { decodeHeader, encodeHeader, type RatchetHeader } from './header.js';
import { kdfChainKey, kdfRootKey, messageCipherKeys } from './kdf.js';
import {
  cloneState,
  MAX_PREVIOUS_RATCHETS,
  MAX_SKIP,
  MAX_STORED_SKIPPED_KEYS,
  type SessionState,
} from './state.js';
import { constantTimeEqual } from './x3dh.js';

export interface EncryptedMessage {
  state: SessionState;
  header: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

/**
 * RatchetEncrypt (Double Ratchet §3.4): advances the sending chain and seals the message
 * with AES-256-GCM under the message key, associated data = AD ‖ header. Pure: returns the
 * next state, which the caller must persist before reporting the message as sent (so a crash
 * never reuses a message key). The input state is not modified.
 * @throws ProtocolError `E_RATCHET_NO_SESSION` when the session cannot send yet.
 */
export function ratchetEncrypt(state: SessionState, plaintext: Uint8Array): EncryptedMessage {
  if (!state.sendChain)
    throw new ProtocolError(
      ErrorCode.RATCHET_NO_SESSION,
      'this session cannot send before it received a message',
    );
  const next = cloneState(state);
  const { chainKey, messageKey } = kdfChainKey(next.sendChain!);
  next.sendChain = chainKey;
  const header: RatchetHeader = { dh: next.sendRatchet.publicKey, pn: next.pn, n: next.ns };
  if (next.pendingInit) header.init = next.pendingInit;
  next.ns++;
  const headerBytes = encodeHeader(header);
  const { key, nonce } = messageCipherKeys(messageKey);
  messageKey.fill(0);
  const ciphertext = aesGcmSeal(key, nonce, plaintext, concatBytes(next.ad, headerBytes));
  key.fill(0);
  return { state: next, header: headerBytes, nonce, ciphertext };
}

/** Stores the keys of messages [state.nr, until) of the current receiving chain. */
function skipMessageKeys(state: SessionState, until: number): void {
  if (!state.recvChain || !state.recvRatchet) return;
  if (until - state.nr > MAX_SKIP) {
    throw new ProtocolError(
      ErrorCode.RATCHET_TOO_MANY_SKIPPED,
      `the message would skip ${until - state.nr} keys (at most ${MAX_SKIP})`,
    );
  }
  const dh = toBase64(state.recvRatchet);
  while (state.nr < until) {
    const { chainKey, messageKey } = kdfChainKey(state.recvChain);
    state.recvChain = chainKey;
    state.skipped.push({ dh, n: state.nr, messageKey });
    state.nr++;
  }
  while (state.skipped.length > MAX_STORED_SKIPPED_KEYS) state.skipped.shift()!.messageKey.fill(0);
}

/** DHRatchet (§3.5): a new receiving chain from the peer's new key, then a new sending chain. */
function dhRatchetStep(state: SessionState, header: RatchetHeader, random: RandomSource): void {
  if (state.recvRatchet) {
    state.previousRatchets.push(toBase64(state.recvRatchet));
    if (state.previousRatchets.length > MAX_PREVIOUS_RATCHETS) state.previousRatchets.shift();
  }
  state.pn = state.ns;
  state.ns = 0;
  state.nr = 0;
  state.recvRatchet = header.dh.slice();
  const received = x25519SharedSecret(state.sendRatchet.secretKey, state.recvRatchet);
  const receiving = kdfRootKey(state.rootKey, received);
  state.rootKey = receiving.rootKey;
  state.recvChain = receiving.chainKey;
  state.sendRatchet = generateX25519KeyPair(random);
  const sent = x25519SharedSecret(state.sendRatchet.secretKey, state.recvRatchet);
  const sending = kdfRootKey(state.rootKey, sent);
  state.rootKey = sending.rootKey;
  state.sendChain = sending.chainKey;
  received.fill(0);
  sent.fill(0);
}

function open(
  state: SessionState,
  messageKey: Uint8Array,
  headerBytes: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  const derived = messageCipherKeys(messageKey);
  if (!constantTimeEqual(derived.nonce, nonce)) {
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'message authentication failed');
  }
  try {
    return aesGcmOpen(derived.key, derived.nonce, ciphertext, concatBytes(state.ad, headerBytes));
  } finally {
    derived.key.fill(0);
  }
}

/**
 * RatchetDecrypt (Double Ratchet §3.5) with skipped-message keys (§3.2, bounded by MAX_SKIP
 * per step and MAX_STORED_SKIPPED_KEYS in total) and replay detection. Transactional: on
 * any error the input state is untouched and the caller keeps using it.
 * @throws ProtocolError `E_DECRYPT_FAILED` (tampering, wrong session), `E_RATCHET_DUPLICATE`
 *   (replay or duplicate), `E_RATCHET_TOO_MANY_SKIPPED`, `E_BAD_FIELD` (malformed header).
 */
export function ratchetDecrypt(
  state: SessionState,
  headerBytes: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  random: RandomSource = secureRandom,
): { state: SessionState; plaintext: Uint8Array; header: RatchetHeader } {
  const header = decodeHeader(headerBytes);
  const next = cloneState(state);
  const dh = toBase64(header.dh);
  const skippedIndex = next.skipped.findIndex((k) => k.n === header.n && k.dh === dh);
  if (skippedIndex >= 0) {
    const [skipped] = next.skipped.splice(skippedIndex, 1);
    const plaintext = open(next, skipped!.messageKey, headerBytes, nonce, ciphertext);
    skipped!.messageKey.fill(0);
    next.pendingInit = undefined;
    return { state: next, plaintext, header };
  }
  const current = next.recvRatchet !== undefined && constantTimeEqual(header.dh, next.recvRatchet);
  if ((current && header.n < next.nr) || next.previousRatchets.includes(dh)) {
    throw new ProtocolError(
      ErrorCode.RATCHET_DUPLICATE,
      'this message was already received (replay or duplicate)',
    );
  }
  if (!current) {
    skipMessageKeys(next, header.pn);
    dhRatchetStep(next, header, random);
  }
  skipMessageKeys(next, header.n);
  const { chainKey, messageKey } = kdfChainKey(next.recvChain!);
  next.recvChain = chainKey;
  next.nr++;
  const plaintext = open(next, messageKey, headerBytes, nonce, ciphertext);
  messageKey.fill(0);
  next.pendingInit = undefined;
  return { state: next, plaintext, header };
}

/** Decodes a header without touching any state (to route an incoming message). */
export { decodeHeader };
