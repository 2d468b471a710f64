import { type Ed25519Verifier, ed25519VerifierFor } from './ed25519-verify.js';
import { concatBytes, ed25519Sign, prekeySignatureMessage } from './identity.js';

/** The protocol version this implementation speaks (v1 peers are still served). */
export const PROTOCOL_VERSION = 2;

/** Capabilities a v2 client or server may announce in `caps`. */
export const Capability = {
  /** Push presence deltas (`presence` frames) instead of nothing. */
  presence: 'presence',
  /** Acks for relays carrying an `id`. */
  ack: 'ack',
  /** X3DH + Double Ratchet envelopes and prekey frames. */
  ratchet: 'ratchet',
  /** ping / pong keepalive. */
  ping: 'ping',
  /** Rooms and sender-key envelopes. */
  rooms: 'rooms',
  /**
   * Signed prekeys with a lifecycle: a client publishes a rotating signed prekey with an id
   * and creation time (`prekeys` upload `spk`); a server stores the current and previous
   * one and hands out the current one in bundles.
   */
  spk: 'spk',
  /**
   * Client to client: this client opens ratchet and room messages under a random nonce
   * (`X3DH+DR+AESGCM-RN`, `SK1+AESGCM-RN+ED25519`), so peers may send it them.
   */
  randomNonce: 'random-nonce',
} as const;
export type Capability = (typeof Capability)[keyof typeof Capability];

/** RFC 5705 exporter label of the hello proof (labels starting "EXPORTER" are private use). */
export const HELLO_EXPORTER_LABEL = 'EXPORTER-securechat-v2-hello';
/** Length of the exported keying material signed in the hello proof. */
export const HELLO_EXPORTER_BYTES = 32;
/** Domain separation of the hello proof signature. */
export const HELLO_PROOF_CONTEXT = 'securechat/v2/hello-proof\0';

const encoder = new TextEncoder();

/**
 * The message a v2 hello proof signs: context || exporter || UTF-8 name. The exporter value
 * is unique to one TLS connection, so a captured proof is worthless on any other.
 */
export function helloProofMessage(exporter: Uint8Array, name: string): Uint8Array {
  return concatBytes(encoder.encode(HELLO_PROOF_CONTEXT), exporter, encoder.encode(name));
}

/** Signs the hello proof with the identity key. */
export function signHelloProof(
  identitySecretKey: Uint8Array,
  exporter: Uint8Array,
  name: string,
): Uint8Array {
  return ed25519Sign(identitySecretKey, helloProofMessage(exporter, name));
}

/** Result of checking both signatures of a v2 hello. */
export type HelloProofCheck = 'ok' | 'bad-key-signature' | 'bad-proof';

/** The fields of a v2 hello that carry proofs, decoded. */
export interface HelloProofs {
  identityKey: Uint8Array;
  x25519Key: Uint8Array;
  /** Identity signature over the X25519 key (identity.ts `signPrekey`). */
  keySignature: Uint8Array;
  /** Identity signature over {@link helloProofMessage}. */
  proof: Uint8Array;
}

/**
 * Verifies a v2 hello: the signature over the X25519 key (so peers can check the server did
 * not swap it) and the proof of possession bound to this TLS connection by `exporter`.
 * The identity key is parsed once for both checks.
 */
export function verifyHello(
  proofs: HelloProofs,
  exporter: Uint8Array,
  name: string,
  verifierFor: (key: Uint8Array) => Ed25519Verifier = ed25519VerifierFor,
): HelloProofCheck {
  const verifier = verifierFor(proofs.identityKey);
  if (!verifier(prekeySignatureMessage(proofs.x25519Key), proofs.keySignature)) {
    return 'bad-key-signature';
  }
  if (!verifier(helloProofMessage(exporter, name), proofs.proof)) return 'bad-proof';
  return 'ok';
}
