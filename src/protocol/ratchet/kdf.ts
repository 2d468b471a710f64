import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hkdfSha256 } from '../crypto.js';

const ZERO_SALT = new Uint8Array(32);
const CHAIN_MESSAGE = Uint8Array.of(0x01);
const CHAIN_NEXT = Uint8Array.of(0x02);

/** HKDF info strings: every derivation is domain-separated. */
const X3DH_INFO = 'securechat/v2/x3dh';
/**
 * PQXDH's info (§2.1: the application, curve, hash and pqkem): a session set up with a KEM
 * secret never shares its KDF domain with an X3DH one.
 */
const PQXDH_INFO = 'securechat/v2/pqxdh_CURVE25519_SHA-256_ML-KEM-1024';
const RATCHET_INFO = 'securechat/v2/ratchet';
const MESSAGE_INFO = 'securechat/v2/message';
/** Info of the message key under a random nonce (`X3DH+DR+AESGCM-RN`): a key, no nonce. */
const MESSAGE_KEY_INFO = 'securechat/v2/message-key';

/**
 * KDF_RK (Double Ratchet §5.2): HKDF-SHA256 with the root key as salt and the DH output as
 * input key material, 64 bytes → (new root key, new chain key).
 */
export function kdfRootKey(
  rootKey: Uint8Array,
  dhOutput: Uint8Array,
): { rootKey: Uint8Array; chainKey: Uint8Array } {
  const out = hkdfSha256(dhOutput, rootKey, RATCHET_INFO, 64);
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32, 64) };
}

/**
 * KDF_CK (Double Ratchet §5.2, as recommended): message key = HMAC-SHA256(ck, 0x01),
 * next chain key = HMAC-SHA256(ck, 0x02).
 */
export function kdfChainKey(chainKey: Uint8Array): {
  chainKey: Uint8Array;
  messageKey: Uint8Array;
} {
  return {
    chainKey: hmac(sha256, chainKey, CHAIN_NEXT),
    messageKey: hmac(sha256, chainKey, CHAIN_MESSAGE),
  };
}

/**
 * Expands a message key into the AES-256-GCM key and nonce (Double Ratchet §5.2 ENCRYPT
 * recommends HKDF over the message key; one key is used for exactly one message, so a
 * derived nonce is safe).
 */
export function messageCipherKeys(messageKey: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const out = hkdfSha256(messageKey, ZERO_SALT, MESSAGE_INFO, 44);
  return { key: out.slice(0, 32), nonce: out.slice(32, 44) };
}

/**
 * The AES-256-GCM key of a message sent under a fresh random 96-bit nonce (`X3DH+DR+AESGCM-RN`):
 * HKDF(message key, info `securechat/v2/message-key`, 32). The nonce is not derived, so a
 * message key that is ever used twice (a sender restored from a backup) still never repeats
 * a (key, nonce) pair.
 */
export function messageCipherKey(messageKey: Uint8Array): Uint8Array {
  return hkdfSha256(messageKey, ZERO_SALT, MESSAGE_KEY_INFO, 32);
}

/**
 * X3DH shared secret (X3DH §2.2 KDF): HKDF(salt = 32 zero bytes, ikm = 0xFF×32 ‖ DH1 ‖ … ‖ DHn).
 * With `kemSecret`, the PQXDH one (PQXDH §2.2, §3.3): SK = KDF(DH1 ‖ DH2 ‖ DH3 [‖ DH4] ‖ SS)
 * under the PQXDH info.
 */
export function x3dhSecret(dhOutputs: Uint8Array[], kemSecret?: Uint8Array): Uint8Array {
  const parts = kemSecret ? [...dhOutputs, kemSecret] : dhOutputs;
  let total = 32;
  for (const dh of parts) total += dh.length;
  const ikm = new Uint8Array(total).fill(0xff, 0, 32);
  let offset = 32;
  for (const dh of parts) {
    ikm.set(dh, offset);
    offset += dh.length;
  }
  const secret = hkdfSha256(ikm, ZERO_SALT, kemSecret ? PQXDH_INFO : X3DH_INFO, 32);
  ikm.fill(0);
  return secret;
}
