import {
  ALG_V1,
  ALG_V2,
  acceptSession,
  createSenderKey,
  decodeHeader,
  deriveV1Key,
  distributionOf,
  encodeHeader,
  fromBase64,
  generateIdentityKeyPair,
  generateX25519KeyPair,
  type IdentityKeyPair,
  initiateSession,
  isRatchetAlg,
  isRoomAlg,
  openRoomMessage,
  openV1,
  type RatchetAlg,
  type ReceivedSenderKey,
  type RoomAlg,
  ratchetDecrypt,
  ratchetEncrypt,
  receiveSenderKey,
  type SenderKey,
  type SessionState,
  sealRoomMessage,
  secureRandom,
  signPrekey,
  toBase64,
  type X25519KeyPair,
} from '../../../src/protocol/index.js';

/** A directory entry as it goes on the wire. */
export interface PeerEntry {
  pub: string;
  v: number;
  idk?: string;
  sig?: string;
  caps?: string[];
  role?: 'owner' | 'op';
}

export type Frame = Record<string, unknown>;

const V2_CAPS = ['presence', 'ack', 'ping', 'ratchet', 'mailbox', 'rooms'];
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The hostile operator's own keys and what it does with them: it lists them in place of
 * other people's, answers bundle requests with them, and tries to decrypt every envelope it
 * forwards (v1 envelopes made with one of its X25519 keys, ratchet sessions started with
 * its identity, room messages under any sender key it was handed). Everything it manages
 * to read ends up in `plaintexts`: the attack tests assert that secrets never do.
 */
export class Attacker {
  readonly x25519: X25519KeyPair = generateX25519KeyPair();
  readonly identity: IdentityKeyPair = generateIdentityKeyPair();
  /** Signed prekey of the attacker's identity (its `pub` when posing as a v2 user). */
  readonly prekey: X25519KeyPair = generateX25519KeyPair();
  readonly plaintexts: string[] = [];
  /** Ratchet sessions by the other side's identity (Base64). */
  readonly #sessions = new Map<string, SessionState[]>();
  /** Room sender keys handed to attacker-owned identities: `room|sender|keyId`. */
  readonly #senderKeys = new Map<string, ReceivedSenderKey>();

  /** A v1 directory entry with the attacker's X25519 key. */
  v1Entry(): PeerEntry {
    return { pub: toBase64(this.x25519.publicKey), v: 1 };
  }

  /** A v2 directory entry with the attacker's identity, correctly signed. */
  v2Entry(caps: string[] = V2_CAPS): PeerEntry {
    return {
      pub: toBase64(this.prekey.publicKey),
      v: 2,
      idk: toBase64(this.identity.publicKey),
      sig: toBase64(signPrekey(this.identity.secretKey, this.prekey.publicKey)),
      caps,
    };
  }

  /** The bundle the server hands out when it poses as `user`. */
  bundle(user: string, id: string | undefined): Frame {
    const entry = this.v2Entry();
    return { type: 'bundle', user, pub: entry.pub, idk: entry.idk, sig: entry.sig, id };
  }

  /** Tries every key it owns on a relay sent by `from`, whose hello key is `senderPub`. */
  observeRelay(from: string, senderPub: string, relay: Frame): void {
    try {
      if (relay.alg === ALG_V1) this.#openV1(senderPub, relay);
      else if (isRatchetAlg(String(relay.alg))) this.#openRatchet(from, relay);
    } catch {
      // not readable with the attacker's keys
    }
  }

  /** Tries every sender key it was handed on a room message from `from`. */
  observeRoomMessage(from: string, frame: Frame): void {
    if (!isRoomAlg(String(frame.alg))) return;
    const header = fromBase64(String(frame.header), 'header');
    if (header.length !== 9) return;
    const keyId = new DataView(header.buffer, header.byteOffset).getUint32(1);
    const key = this.#senderKeys.get(`${String(frame.room).toLowerCase()}|${from}|${keyId}`);
    if (!key) return;
    try {
      const plain = openRoomMessage(key, String(frame.room), from, {
        alg: frame.alg as RoomAlg,
        header,
        nonce: fromBase64(String(frame.nonce), 'nonce', 12),
        cipher: fromBase64(String(frame.cipher), 'cipher'),
        signature: fromBase64(String(frame.sig), 'sig', 64),
      });
      this.#record(decoder.decode(plain));
    } catch {
      // a key for another chain position, or a replay
    }
  }

  /** Whether any plaintext the attacker read contains `secret`. */
  read(secret: string): boolean {
    return this.plaintexts.some((text) => text.includes(secret));
  }

  /**
   * A genuine X3DH init from the attacker's identity to a victim, whose bundle the server
   * knows from its hello (no one-time prekey): the server writing "as bob" with its own key.
   */
  initiate(victim: { idk: string; pub: string; sig: string }, text: string): Frame {
    const state = initiateSession(this.identity, {
      identityKey: fromBase64(victim.idk, 'idk', 32),
      signedPrekey: fromBase64(victim.pub, 'pub', 32),
      signedPrekeySignature: fromBase64(victim.sig, 'sig', 64),
    });
    const out = ratchetEncrypt(state, encoder.encode(text));
    return {
      alg: out.alg,
      header: toBase64(out.header),
      nonce: toBase64(out.nonce),
      cipher: toBase64(out.ciphertext),
    };
  }

  /**
   * An X3DH init nobody can open: it claims `claimedIdentity`, names `signedPrekey` (random
   * when not given: a prekey the receiver does not hold) and carries random bytes.
   */
  forgeInit(claimedIdentity: string, signedPrekey?: string): Frame {
    const random32 = () => secureRandom(32);
    const header = encodeHeader({
      dh: random32(),
      pn: 0,
      n: 0,
      init: {
        identityKey: fromBase64(claimedIdentity, 'idk', 32),
        ephemeralKey: random32(),
        signedPrekey: signedPrekey ? fromBase64(signedPrekey, 'pub', 32) : random32(),
      },
    });
    return {
      alg: ALG_V2,
      header: toBase64(header),
      nonce: toBase64(secureRandom(12)),
      cipher: toBase64(secureRandom(48)),
    };
  }

  /** A room sender key of the attacker's and the pairwise content that hands it out. */
  senderKey(room: string): { key: SenderKey; content: string } {
    const key = createSenderKey();
    const d = distributionOf(key);
    const content = JSON.stringify({
      t: 'sk',
      room,
      keyId: d.keyId,
      iteration: d.iteration,
      chainKey: toBase64(d.chainKey),
      signingKey: toBase64(d.signingPublicKey),
    });
    return { key, content };
  }

  /** A room message signed and encrypted under `key` as if `from` wrote it. */
  roomMessage(key: SenderKey, room: string, from: string, text: string): Frame {
    const sealed = sealRoomMessage(
      key,
      room,
      from,
      encoder.encode(JSON.stringify({ t: 'text', text })),
    );
    return {
      type: 'roommsg',
      room,
      from,
      alg: sealed.alg,
      header: toBase64(sealed.header),
      nonce: toBase64(sealed.nonce),
      cipher: toBase64(sealed.cipher),
      sig: toBase64(sealed.signature),
    };
  }

  #openV1(senderPub: string, relay: Frame): void {
    const key = deriveV1Key(this.x25519.secretKey, fromBase64(senderPub, 'pub', 32));
    this.#record(openV1(key, { nonce: String(relay.nonce), cipher: String(relay.cipher) }));
  }

  #openRatchet(from: string, relay: Frame): void {
    const headerBytes = fromBase64(String(relay.header), 'header');
    const nonce = fromBase64(String(relay.nonce), 'nonce', 12);
    const cipher = fromBase64(String(relay.cipher), 'cipher');
    const header = decodeHeader(headerBytes);
    let candidates: SessionState[] = [];
    let sender: string | undefined;
    if (header.init) {
      sender = toBase64(header.init.identityKey);
      if (toBase64(header.init.signedPrekey) === toBase64(this.prekey.publicKey)) {
        candidates = [acceptSession(this.identity, this.prekey, header.init, undefined)];
      }
    }
    candidates.push(...[...this.#sessions.values()].flat());
    for (const session of candidates) {
      try {
        const out = ratchetDecrypt(session, headerBytes, nonce, cipher, {
          alg: relay.alg as RatchetAlg,
        });
        const identity = sender ?? toBase64(session.peerIdentity);
        const kept = (this.#sessions.get(identity) ?? []).filter((s) => s !== session);
        this.#sessions.set(identity, [out.state, ...kept]);
        this.#content(from, decoder.decode(out.plaintext));
        return;
      } catch {
        // next session
      }
    }
  }

  /** Pairwise content: a text, or a room sender key the attacker keeps for later. */
  #content(from: string, text: string): void {
    this.#record(text);
    const content = JSON.parse(text) as Record<string, unknown>;
    if (content.t !== 'sk') return;
    this.#senderKeys.set(
      `${String(content.room).toLowerCase()}|${from}|${Number(content.keyId)}`,
      receiveSenderKey({
        keyId: Number(content.keyId),
        iteration: Number(content.iteration),
        chainKey: fromBase64(String(content.chainKey), 'chainKey', 32),
        signingPublicKey: fromBase64(String(content.signingKey), 'signingKey', 32),
      }),
    );
  }

  #record(text: string): void {
    this.plaintexts.push(text);
  }
}
