import { deriveV1Key, type X25519KeyPair } from '../../protocol/index.js';

/**
 * Cache of v1 pairwise keys by peer public key. One X25519 costs ~2 ms with noble, so a key
 * is derived once per peer key, never per message. Bounded (LRU by insertion) so a server
 * that rotates keys endlessly cannot grow it.
 */
export class V1KeyCache {
  #keyPair: X25519KeyPair;
  #keys = new Map<string, Uint8Array>();
  #max: number;

  constructor(keyPair: X25519KeyPair, max = 1024) {
    this.#keyPair = keyPair;
    this.#max = max;
  }

  /** @throws ProtocolError `E_BAD_KEY` for invalid (low-order) peer keys. */
  keyFor(peerPubB64: string, peerPub: Uint8Array): Uint8Array {
    const cached = this.#keys.get(peerPubB64);
    if (cached) return cached;
    const key = deriveV1Key(this.#keyPair.secretKey, peerPub);
    if (this.#keys.size >= this.#max) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
    this.#keys.set(peerPubB64, key);
    return key;
  }

  get size(): number {
    return this.#keys.size;
  }
}
