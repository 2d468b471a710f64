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
import {
  GCM_NONCE_BYTES,
  MAX_PREVIOUS_RATCHETS,
  MAX_SKIP,
  MAX_STORED_SKIPPED_KEYS,
} from '../limits.js';
import { decodeHeader, encodeHeader, type RatchetHeader } from './header.js';
import { kdfChainKey, kdfRootKey, messageCipherKey, messageCipherKeys } from './kdf.js';
import { cloneState, type SessionState } from './state.js';
import { ALG_V2, constantTimeEqual } from './x3dh.js';

/**
 * Ratchet messages under a fresh random 96-bit nonce carried in `nonce` (authenticated as the
 * GCM IV): a message key used twice, as by a sender restored from an older state, never
 * repeats a (key, nonce) pair. {@link ALG_V2} (nonce derived from the message key) is still
 * accepted on receive and sent to peers that do not announce `random-nonce`.
 */
export const ALG_V2_RN = 'X3DH+DR+AESGCM-RN';
/** The ratchet envelope algorithms: derived nonce (older) or random nonce. */
export type RatchetAlg = typeof ALG_V2 | typeof ALG_V2_RN;

/** Whether `alg` names a ratchet envelope (either nonce scheme). */
export function isRatchetAlg(alg: string): alg is RatchetAlg {
  return alg === ALG_V2 || alg === ALG_V2_RN;
}

export interface EncryptedMessage {
  state: SessionState;
  alg: RatchetAlg;
  header: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

/** Options of {@link ratchetEncrypt}. */
export interface EncryptOptions {
  /** Default {@link ALG_V2_RN}. */
  alg?: RatchetAlg;
  /** Source of the random nonce (and nothing else); injectable for test vectors. */
  random?: RandomSource;
}

/** Options of {@link ratchetDecrypt}. */
export interface DecryptOptions {
  /** The relay's `alg`; default {@link ALG_V2_RN}. */
  alg?: RatchetAlg;
  /** Source of the new ratchet key pair of a DH step. */
  random?: RandomSource;
  /** Time (ms) recorded with keys skipped by this message, for their expiry by age. */
  now?: number;
}

/** Seals with the message key: derived nonce ({@link ALG_V2}) or a fresh random one. */
function seal(
  alg: RatchetAlg,
  messageKey: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  random: RandomSource,
): { nonce: Uint8Array; ciphertext: Uint8Array } {
  if (alg === ALG_V2) {
    const { key, nonce } = messageCipherKeys(messageKey);
    const ciphertext = aesGcmSeal(key, nonce, plaintext, aad);
    key.fill(0);
    return { nonce, ciphertext };
  }
  const key = messageCipherKey(messageKey);
  const nonce = random(GCM_NONCE_BYTES);
  const ciphertext = aesGcmSeal(key, nonce, plaintext, aad);
  key.fill(0);
  return { nonce, ciphertext };
}

/**
 * RatchetEncrypt (Double Ratchet §3.4): advances the sending chain and seals the message
 * with AES-256-GCM under the message key, associated data = AD ‖ header; the nonce is fresh
 * and random ({@link ALG_V2_RN}, the default) or derived ({@link ALG_V2}). Pure: returns the
 * next state, which the caller must persist before reporting the message as sent (so a crash
 * never reuses a message key). The input state is not modified.
 * @throws ProtocolError `E_RATCHET_NO_SESSION` when the session cannot send yet.
 */
export function ratchetEncrypt(
  state: SessionState,
  plaintext: Uint8Array,
  options: EncryptOptions = {},
): EncryptedMessage {
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
  const alg = options.alg ?? ALG_V2_RN;
  const { nonce, ciphertext } = seal(
    alg,
    messageKey,
    plaintext,
    concatBytes(next.ad, headerBytes),
    options.random ?? secureRandom,
  );
  messageKey.fill(0);
  return { state: next, alg, header: headerBytes, nonce, ciphertext };
}

/** Stores the keys of messages [state.nr, until) of the current receiving chain. */
function skipMessageKeys(state: SessionState, until: number, now: number): void {
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
    state.skipped.push({ dh, n: state.nr, messageKey, at: now });
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
  alg: RatchetAlg,
  state: SessionState,
  messageKey: Uint8Array,
  headerBytes: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  const aad = concatBytes(state.ad, headerBytes);
  if (alg === ALG_V2_RN) {
    if (nonce.length !== GCM_NONCE_BYTES)
      throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'message authentication failed');
    const key = messageCipherKey(messageKey);
    try {
      return aesGcmOpen(key, nonce, ciphertext, aad);
    } finally {
      key.fill(0);
    }
  }
  const derived = messageCipherKeys(messageKey);
  if (!constantTimeEqual(derived.nonce, nonce)) {
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'message authentication failed');
  }
  try {
    return aesGcmOpen(derived.key, derived.nonce, ciphertext, aad);
  } finally {
    derived.key.fill(0);
  }
}

/**
 * RatchetDecrypt (Double Ratchet §3.5) with skipped-message keys (§3.2, bounded by MAX_SKIP
 * per step and MAX_STORED_SKIPPED_KEYS per session, each stamped with `options.now` so the
 * caller can expire them by age) and replay detection. Transactional: on any error the
 * input state is untouched and the caller keeps using it.
 * @throws ProtocolError `E_DECRYPT_FAILED` (tampering, wrong session), `E_RATCHET_DUPLICATE`
 *   (replay or duplicate), `E_RATCHET_TOO_MANY_SKIPPED`, `E_BAD_FIELD` (malformed header).
 */
export function ratchetDecrypt(
  state: SessionState,
  headerBytes: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  options: DecryptOptions = {},
): { state: SessionState; plaintext: Uint8Array; header: RatchetHeader } {
  const alg = options.alg ?? ALG_V2_RN;
  const now = options.now ?? 0;
  const header = decodeHeader(headerBytes);
  const next = cloneState(state);
  const dh = toBase64(header.dh);
  const skippedIndex = next.skipped.findIndex((k) => k.n === header.n && k.dh === dh);
  if (skippedIndex >= 0) {
    const [skipped] = next.skipped.splice(skippedIndex, 1);
    const plaintext = open(alg, next, skipped!.messageKey, headerBytes, nonce, ciphertext);
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
    skipMessageKeys(next, header.pn, now);
    dhRatchetStep(next, header, options.random ?? secureRandom);
  }
  skipMessageKeys(next, header.n, now);
  const { chainKey, messageKey } = kdfChainKey(next.recvChain!);
  next.recvChain = chainKey;
  next.nr++;
  const plaintext = open(alg, next, messageKey, headerBytes, nonce, ciphertext);
  messageKey.fill(0);
  next.pendingInit = undefined;
  return { state: next, plaintext, header };
}

/**
 * Deletes the skipped-message keys stored before `notBefore` (ms): keys for messages that
 * never came (withheld by the server, or lost) do not live forever. Mutates `state` (the
 * caller persists it); returns how many were deleted.
 */
export function expireSkippedKeys(state: SessionState, notBefore: number): number {
  const before = state.skipped.length;
  const kept: SessionState['skipped'] = [];
  for (const key of state.skipped) {
    if (key.at < notBefore) key.messageKey.fill(0);
    else kept.push(key);
  }
  state.skipped = kept;
  return before - kept.length;
}

/** Decodes a header without touching any state (to route an incoming message). */
export { decodeHeader };
