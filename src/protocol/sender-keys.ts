import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { aesGcmOpen, aesGcmSeal, hkdfSha256, type RandomSource, secureRandom } from './crypto.js';
import { ed25519Verify } from './ed25519-verify.js';
import { ErrorCode, ProtocolError } from './errors.js';
import {
  concatBytes,
  ed25519Sign,
  generateIdentityKeyPair,
  type IdentityKeyPair,
} from './identity.js';
import { MAX_SENDER_KEY_SKIP, MAX_SENDER_KEY_STORED } from './limits.js';
import { foldName } from './names.js';

/**
 * Envelope algorithm of room messages: sender keys (HMAC chain) + AES-256-GCM with the nonce
 * derived from the message key + Ed25519. Still accepted on receive, and sent to rooms where
 * a member does not announce `random-nonce`.
 */
export const ALG_ROOM = 'SK1+AESGCM+ED25519';
/** The same with a fresh random 96-bit nonce per message (carried in `nonce`, signed). */
export const ALG_ROOM_RN = 'SK1+AESGCM-RN+ED25519';
export type RoomAlg = typeof ALG_ROOM | typeof ALG_ROOM_RN;

/** Whether `alg` names a room envelope (either nonce scheme). */
export function isRoomAlg(alg: string): alg is RoomAlg {
  return alg === ALG_ROOM || alg === ALG_ROOM_RN;
}

const SENDER_KEY_VERSION = 1;
const HEADER_BYTES = 1 + 4 + 4;
const SIGN_CONTEXT = new TextEncoder().encode('securechat/v2/room-message\0');
const ZERO_SALT = new Uint8Array(32);

/** A member's own sending chain for one room (Signal "sender key", Megolm-like). */
export interface SenderKey {
  keyId: number;
  iteration: number;
  chainKey: Uint8Array;
  /** Ed25519 pair that signs every message of this chain, so members cannot forge each other. */
  signing: IdentityKeyPair;
}

/** What is distributed to other members over pairwise sessions. */
export interface SenderKeyDistribution {
  keyId: number;
  iteration: number;
  chainKey: Uint8Array;
  signingPublicKey: Uint8Array;
}

/** A receiver's copy of another member's chain. */
export interface ReceivedSenderKey {
  keyId: number;
  iteration: number;
  chainKey: Uint8Array;
  signingPublicKey: Uint8Array;
  /** Message keys of iterations skipped over (out-of-order delivery), bounded, with when they were stored. */
  skipped: Map<number, { key: Uint8Array; at: number }>;
}

export function createSenderKey(random: RandomSource = secureRandom): SenderKey {
  const id = random(4);
  return {
    keyId: new DataView(id.buffer, id.byteOffset, 4).getUint32(0),
    iteration: 0,
    chainKey: random(32),
    signing: generateIdentityKeyPair(random),
  };
}

/** The distribution of a sender key at its current iteration: earlier messages stay unreadable. */
export function distributionOf(key: SenderKey): SenderKeyDistribution {
  return {
    keyId: key.keyId,
    iteration: key.iteration,
    chainKey: key.chainKey.slice(),
    signingPublicKey: key.signing.publicKey.slice(),
  };
}

export function receiveSenderKey(distribution: SenderKeyDistribution): ReceivedSenderKey {
  return { ...distribution, chainKey: distribution.chainKey.slice(), skipped: new Map() };
}

function step(chainKey: Uint8Array): { chainKey: Uint8Array; messageKey: Uint8Array } {
  return {
    chainKey: hmac(sha256, chainKey, Uint8Array.of(0x02)),
    messageKey: hmac(sha256, chainKey, Uint8Array.of(0x01)),
  };
}

function cipherKeys(messageKey: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const out = hkdfSha256(messageKey, ZERO_SALT, 'securechat/v2/room-message', 44);
  return { key: out.slice(0, 32), nonce: out.slice(32, 44) };
}

/** {@link ALG_ROOM_RN}: the key only; the nonce is random. */
function cipherKey(messageKey: Uint8Array): Uint8Array {
  return hkdfSha256(messageKey, ZERO_SALT, 'securechat/v2/room-message-key', 32);
}

/** The AES key and nonce of a message: derived ({@link ALG_ROOM}) or random nonce. */
function keyAndNonce(
  alg: RoomAlg,
  messageKey: Uint8Array,
  nonce: Uint8Array | undefined,
  random: RandomSource,
): { key: Uint8Array; nonce: Uint8Array } {
  if (alg === ALG_ROOM) return cipherKeys(messageKey);
  return { key: cipherKey(messageKey), nonce: nonce ?? random(12) };
}

function header(keyId: number, iteration: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  const view = new DataView(out.buffer);
  out[0] = SENDER_KEY_VERSION;
  view.setUint32(1, keyId);
  view.setUint32(5, iteration);
  return out;
}

/** Parses a room message header: version ‖ keyId (u32) ‖ iteration (u32). */
function decodeRoomHeader(bytes: Uint8Array): { keyId: number; iteration: number } {
  if (bytes.length !== HEADER_BYTES || bytes[0] !== SENDER_KEY_VERSION) {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'room message header is malformed');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { keyId: view.getUint32(1), iteration: view.getUint32(5) };
}

function associatedData(room: string, sender: string, headerBytes: Uint8Array): Uint8Array {
  const encoder = new TextEncoder();
  return concatBytes(encoder.encode(`${foldName(room)}\0${foldName(sender)}\0`), headerBytes);
}

function signedBytes(
  room: string,
  sender: string,
  headerBytes: Uint8Array,
  nonce: Uint8Array,
  cipher: Uint8Array,
): Uint8Array {
  return concatBytes(SIGN_CONTEXT, associatedData(room, sender, headerBytes), nonce, cipher);
}

export interface RoomCiphertext {
  alg: RoomAlg;
  header: Uint8Array;
  nonce: Uint8Array;
  cipher: Uint8Array;
  signature: Uint8Array;
}

/**
 * Encrypts one room message with the next key of our chain (the chain key is then replaced:
 * forward secrecy within the chain), under a random nonce ({@link ALG_ROOM_RN}, the default)
 * or the derived one. Associated data binds the room and sender names; the Ed25519 signature
 * binds everything, nonce included, to our signing key. Mutates `key` (the caller owns it).
 */
export function sealRoomMessage(
  key: SenderKey,
  room: string,
  sender: string,
  plaintext: Uint8Array,
  options: { alg?: RoomAlg; random?: RandomSource } = {},
): RoomCiphertext {
  const alg = options.alg ?? ALG_ROOM_RN;
  const { chainKey, messageKey } = step(key.chainKey);
  const headerBytes = header(key.keyId, key.iteration);
  key.chainKey.fill(0);
  key.chainKey = chainKey;
  key.iteration++;
  const { key: aesKey, nonce } = keyAndNonce(
    alg,
    messageKey,
    undefined,
    options.random ?? secureRandom,
  );
  messageKey.fill(0);
  const cipher = aesGcmSeal(aesKey, nonce, plaintext, associatedData(room, sender, headerBytes));
  aesKey.fill(0);
  const signature = ed25519Sign(
    key.signing.secretKey,
    signedBytes(room, sender, headerBytes, nonce, cipher),
  );
  return { alg, header: headerBytes, nonce, cipher, signature };
}

/**
 * Verifies and decrypts a room message with the sender's distributed key: signature first
 * (a member cannot forge another), then fast-forward (bounded) or a stored skipped key
 * (stamped with `now`, for expiry by age); an iteration already consumed is a replay.
 * Transactional: `key` changes only on success.
 * @throws ProtocolError `E_BAD_KEY` (signature), `E_RATCHET_DUPLICATE`,
 *   `E_RATCHET_TOO_MANY_SKIPPED`, `E_DECRYPT_FAILED`, `E_BAD_FIELD`.
 */
export function openRoomMessage(
  key: ReceivedSenderKey,
  room: string,
  sender: string,
  message: RoomCiphertext,
  now = 0,
): Uint8Array {
  const { keyId, iteration } = decodeRoomHeader(message.header);
  if (keyId !== key.keyId)
    throw new ProtocolError(ErrorCode.RATCHET_NO_SESSION, 'unknown sender key');
  if (
    !ed25519Verify(
      key.signingPublicKey,
      signedBytes(room, sender, message.header, message.nonce, message.cipher),
      message.signature,
    )
  ) {
    throw new ProtocolError(
      ErrorCode.BAD_KEY,
      'room message signature does not verify: forged or altered',
    );
  }
  let messageKey: Uint8Array;
  let nextChain = key.chainKey;
  let nextIteration = key.iteration;
  const newlySkipped: Array<[number, Uint8Array]> = [];
  if (iteration < key.iteration) {
    const stored = key.skipped.get(iteration);
    if (!stored)
      throw new ProtocolError(
        ErrorCode.RATCHET_DUPLICATE,
        'this room message was already received (replay)',
      );
    messageKey = stored.key;
  } else {
    if (iteration - key.iteration > MAX_SENDER_KEY_SKIP) {
      throw new ProtocolError(
        ErrorCode.RATCHET_TOO_MANY_SKIPPED,
        `the message skips ${iteration - key.iteration} keys`,
      );
    }
    while (nextIteration < iteration) {
      const s = step(nextChain);
      newlySkipped.push([nextIteration, s.messageKey]);
      nextChain = s.chainKey;
      nextIteration++;
    }
    const s = step(nextChain);
    messageKey = s.messageKey;
    nextChain = s.chainKey;
    nextIteration++;
  }
  const { key: aesKey, nonce } = keyAndNonce(message.alg, messageKey, message.nonce, secureRandom);
  const plaintext = aesGcmOpen(
    aesKey,
    nonce,
    message.cipher,
    associatedData(room, sender, message.header),
  );
  aesKey.fill(0);
  // commit
  if (iteration < key.iteration) {
    key.skipped.delete(iteration);
  } else {
    for (const [n, mk] of newlySkipped) key.skipped.set(n, { key: mk, at: now });
    key.chainKey = nextChain;
    key.iteration = nextIteration;
    while (key.skipped.size > MAX_SENDER_KEY_STORED) {
      const oldest = key.skipped.keys().next().value as number;
      key.skipped.get(oldest)?.key.fill(0);
      key.skipped.delete(oldest);
    }
  }
  return plaintext;
}

/**
 * Deletes skipped message keys stored before `notBefore` (ms), and then the oldest ones
 * beyond `max` (a cap the caller shares across chains). Returns how many were deleted.
 */
export function pruneSenderKeySkipped(
  key: ReceivedSenderKey,
  notBefore: number,
  max = MAX_SENDER_KEY_STORED,
): number {
  let dropped = 0;
  for (const [n, stored] of key.skipped) {
    if (stored.at >= notBefore && key.skipped.size <= max) continue;
    stored.key.fill(0);
    key.skipped.delete(n);
    dropped++;
  }
  return dropped;
}
