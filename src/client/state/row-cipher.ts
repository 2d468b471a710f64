import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  aesGcmOpen,
  aesGcmSeal,
  concatBytes,
  hkdfSha256,
  secureRandom,
  toBase64,
} from '../../protocol/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encryption at rest of the client's state rows: AES-256-GCM under a key derived (HKDF) from
 * the identity secret, so the state is exactly as protected as the identity key file
 * (passphrase included). Each row is sealed on its own with a fresh random nonce; its
 * table and key are associated data, so rows cannot be swapped or moved. Peer identities are
 * stored only as keyed tags (HMAC), so the file does not list whom you talk to.
 */
export class RowCipher {
  #key: Uint8Array;
  #tagKey: Uint8Array;
  #scope: string;

  constructor(identitySecret: Uint8Array, scope: string) {
    this.#key = hkdfSha256(identitySecret, undefined, 'securechat/v2/state-rows', 32);
    this.#tagKey = hkdfSha256(identitySecret, undefined, 'securechat/v2/state-tags', 32);
    this.#scope = scope;
  }

  #aad(table: string, rowKey: string): Uint8Array {
    return encoder.encode(`securechat-state/1\0${this.#scope}\0${table}\0${rowKey}`);
  }

  /** nonce (12) ‖ ciphertext ‖ tag of a JSON value. */
  seal(table: string, rowKey: string, value: unknown): Buffer {
    const nonce = secureRandom(12);
    const sealed = aesGcmSeal(
      this.#key,
      nonce,
      encoder.encode(JSON.stringify(value)),
      this.#aad(table, rowKey),
    );
    return Buffer.from(concatBytes(nonce, sealed));
  }

  /** @throws ProtocolError `E_DECRYPT_FAILED` for a row of another identity or a modified one. */
  open<T>(table: string, rowKey: string, blob: Uint8Array): T {
    const plain = aesGcmOpen(
      this.#key,
      blob.subarray(0, 12),
      blob.subarray(12),
      this.#aad(table, rowKey),
    );
    return JSON.parse(decoder.decode(plain)) as T;
  }

  /** A stable keyed tag for a peer identity (Base64). */
  tag(value: string): string {
    return toBase64(hmac(sha256, this.#tagKey, encoder.encode(value))).slice(0, 32);
  }
}
