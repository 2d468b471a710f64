import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  aesGcmOpen,
  aesGcmSeal,
  decodeSessionState,
  encodeSessionState,
  fromBase64,
  hkdfSha256,
  nameKey,
  type SessionState,
  secureRandom,
  toBase64,
  type X25519KeyPair,
} from '../../protocol/index.js';
import { writePrivateFileAtomic } from '../config-dir.js';
import type { LocalIdentity } from '../keystore.js';

/** Sessions kept per peer (simultaneous initiations create more than one; all can decrypt). */
export const MAX_SESSIONS_PER_PEER = 4;
/**
 * X3DH inits accepted per peer identity, kept to recognize a replayed first message. Only
 * inits that passed their AEAD check are recorded, so only that peer's own new sessions
 * push old entries out.
 */
export const MAX_SEEN_INITS_PER_PEER = 512;

interface PeerSessions {
  /** Most recently used first. */
  sessions: SessionState[];
}

interface StoreContents {
  peers: Map<string, PeerSessions>;
  oneTimePrekeys: Map<number, Uint8Array>;
  nextPrekeyId: number;
  /** Ephemeral keys recorded by older versions (before decryption, without the prekey). */
  legacySeenInits: string[];
  /** Peer identity → accepted inits, as `ephemeral.signedPrekey` (Base64). */
  seenInits: Map<string, string[]>;
  /** Peer identity → time of the last session reset accepted from it. */
  lastResets: Map<string, number>;
}

interface StoreFile {
  format: 'securechat-sessions';
  version: 1;
  nonce: string;
  cipher: string;
}

/**
 * Ratchet sessions and one-time prekey secrets of one local identity, in
 * `<config>/sessions/<user>.json`, encrypted (AES-256-GCM) under a key derived from the
 * identity secret (HKDF, info "securechat/v2/session-store"): protected by the identity
 * passphrase when there is one, never weaker than the identity key file. Written
 * atomically before a message is reported as sent, so a crash never reuses a message key.
 */
export class SessionStore {
  readonly path: string;
  #key: Uint8Array;
  #aad: Uint8Array;
  #data: StoreContents;

  constructor(configDir: string, identity: LocalIdentity) {
    this.path = join(configDir, 'sessions', `${nameKey(identity.name)}.json`);
    this.#key = hkdfSha256(
      identity.identity.secretKey,
      undefined,
      'securechat/v2/session-store',
      32,
    );
    this.#aad = new TextEncoder().encode(`securechat-sessions/v1/${nameKey(identity.name)}`);
    this.#data = existsSync(this.path)
      ? this.#decrypt(readFileSync(this.path, 'utf8'))
      : {
          peers: new Map(),
          oneTimePrekeys: new Map(),
          nextPrekeyId: 1,
          legacySeenInits: [],
          seenInits: new Map(),
          lastResets: new Map(),
        };
  }

  /** Sessions with a peer (by identity key, Base64), most recently used first. */
  sessions(peerIdentity: string): SessionState[] {
    return this.#data.peers.get(peerIdentity)?.sessions ?? [];
  }

  /** Replaces `previous` (or adds) `next` and makes it the most recent; persists. */
  putSession(peerIdentity: string, next: SessionState, previous?: SessionState): void {
    const entry = this.#data.peers.get(peerIdentity) ?? { sessions: [] };
    const others = entry.sessions.filter((s) => s !== previous);
    entry.sessions = [next, ...others].slice(0, MAX_SESSIONS_PER_PEER);
    this.#data.peers.set(peerIdentity, entry);
    this.save();
  }

  /** Forgets one session with a peer (it named it in a reset); persists. */
  dropSession(peerIdentity: string, session: SessionState): void {
    const entry = this.#data.peers.get(peerIdentity);
    if (!entry) return;
    entry.sessions = entry.sessions.filter((s) => s !== session);
    if (entry.sessions.length === 0) this.#data.peers.delete(peerIdentity);
    this.save();
  }

  /** Whether an init with this ephemeral key, made for this signed prekey, was accepted. */
  hasSeenInit(peerIdentity: string, ephemeralKey: Uint8Array, signedPrekey: Uint8Array): boolean {
    const ephemeral = toBase64(ephemeralKey);
    return (
      this.#data.seenInits.get(peerIdentity)?.includes(`${ephemeral}.${toBase64(signedPrekey)}`) ===
        true || this.#data.legacySeenInits.includes(ephemeral)
    );
  }

  /** Records an accepted init (call only after it authenticated; persisted with its session). */
  recordInit(peerIdentity: string, ephemeralKey: Uint8Array, signedPrekey: Uint8Array): void {
    const seen = this.#data.seenInits.get(peerIdentity) ?? [];
    seen.push(`${toBase64(ephemeralKey)}.${toBase64(signedPrekey)}`);
    if (seen.length > MAX_SEEN_INITS_PER_PEER) seen.shift();
    this.#data.seenInits.set(peerIdentity, seen);
  }

  /** Time of the last reset accepted from a peer (0 if none). */
  lastReset(peerIdentity: string): number {
    return this.#data.lastResets.get(peerIdentity) ?? 0;
  }

  /** Records an accepted reset (persisted with the session it dropped). */
  setLastReset(peerIdentity: string, time: number): void {
    this.#data.lastResets.set(peerIdentity, time);
  }

  /** Makes `count` new one-time prekeys; returns their public halves to upload. */
  newOneTimePrekeys(
    count: number,
    generate: () => X25519KeyPair,
  ): Array<{ id: number; pub: string }> {
    const out: Array<{ id: number; pub: string }> = [];
    for (let i = 0; i < count; i++) {
      const id = this.#data.nextPrekeyId++ % 0xffffffff;
      const pair = generate();
      this.#data.oneTimePrekeys.set(id, pair.secretKey);
      out.push({ id, pub: toBase64(pair.publicKey) });
    }
    this.save();
    return out;
  }

  /** A one-time prekey secret, if we still hold it. */
  oneTimePrekey(id: number): Uint8Array | undefined {
    return this.#data.oneTimePrekeys.get(id);
  }

  /** Deletes a used one-time prekey (persisted with the session that used it). */
  useOneTimePrekey(id: number): void {
    this.#data.oneTimePrekeys.get(id)?.fill(0);
    this.#data.oneTimePrekeys.delete(id);
  }

  get oneTimePrekeyCount(): number {
    return this.#data.oneTimePrekeys.size;
  }

  save(): void {
    const plain = JSON.stringify({
      peers: [...this.#data.peers].map(([peer, entry]) => [
        peer,
        entry.sessions.map(encodeSessionState),
      ]),
      oneTimePrekeys: [...this.#data.oneTimePrekeys].map(([id, secret]) => [id, toBase64(secret)]),
      nextPrekeyId: this.#data.nextPrekeyId,
      seenInits: this.#data.legacySeenInits,
      seenInitsByPeer: [...this.#data.seenInits],
      lastResets: [...this.#data.lastResets],
    });
    const nonce = secureRandom(12);
    const cipher = aesGcmSeal(this.#key, nonce, new TextEncoder().encode(plain), this.#aad);
    const file: StoreFile = {
      format: 'securechat-sessions',
      version: 1,
      nonce: toBase64(nonce),
      cipher: toBase64(cipher),
    };
    writePrivateFileAtomic(this.path, JSON.stringify(file));
  }

  #decrypt(text: string): StoreContents {
    const file = JSON.parse(text) as StoreFile;
    if (file?.format !== 'securechat-sessions' || file.version !== 1) {
      throw new Error(`${this.path} is not a securechat session file`);
    }
    const plain = aesGcmOpen(
      this.#key,
      fromBase64(file.nonce, 'nonce', 12),
      fromBase64(file.cipher, 'cipher'),
      this.#aad,
    );
    const raw = JSON.parse(new TextDecoder().decode(plain)) as {
      peers: Array<[string, string[]]>;
      oneTimePrekeys: Array<[number, string]>;
      nextPrekeyId: number;
      seenInits?: string[];
      seenInitsByPeer?: Array<[string, string[]]>;
      lastResets?: Array<[string, number]>;
    };
    return {
      peers: new Map(
        raw.peers.map(([peer, sessions]) => [peer, { sessions: sessions.map(decodeSessionState) }]),
      ),
      oneTimePrekeys: new Map(
        raw.oneTimePrekeys.map(([id, secret]) => [id, fromBase64(secret, 'prekey', 32)]),
      ),
      nextPrekeyId: raw.nextPrekeyId,
      legacySeenInits: raw.seenInits ?? [],
      seenInits: new Map(raw.seenInitsByPeer ?? []),
      lastResets: new Map(raw.lastResets ?? []),
    };
  }
}
