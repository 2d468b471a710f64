import {
  generateX25519KeyPair,
  type RandomSource,
  secureRandom,
  type X25519KeyPair,
  x25519SharedSecret,
} from '../crypto.js';
import { ErrorCode, ProtocolError } from '../errors.js';
import {
  concatBytes,
  type IdentityKeyPair,
  identityToX25519Public,
  identityToX25519Secret,
  verifyPrekeySignature,
} from '../identity.js';
import { kemDecapsulate, kemEncapsulate } from '../kem-prekeys.js';
import type { X3dhInit } from './header.js';
import { kdfRootKey, x3dhSecret } from './kdf.js';
import type { SessionState } from './state.js';

/** The envelope algorithm of v2 relays: X3DH setup + Double Ratchet + AES-256-GCM. */
export const ALG_V2 = 'X3DH+DR+AESGCM';

const AD_PREFIX = new TextEncoder().encode('securechat/v2');

/** What the initiator learns about the responder (X3DH §3.2), e.g. from a `bundle` frame. */
export interface PrekeyBundle {
  identityKey: Uint8Array;
  signedPrekey: Uint8Array;
  signedPrekeySignature: Uint8Array;
  oneTimePrekey?: { id: number; publicKey: Uint8Array };
  /**
   * PQXDH (§3.3): the KEM prekey to encapsulate to (one-time, or the last resort), its
   * signature already checked by the caller. Without it the session is plain X3DH.
   */
  kemPrekey?: { id: number; publicKey: Uint8Array };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** AD = "securechat/v2" ‖ IK_initiator ‖ IK_responder: binds both identities into every message. */
export function associatedData(
  initiatorIdentity: Uint8Array,
  responderIdentity: Uint8Array,
): Uint8Array {
  return concatBytes(AD_PREFIX, initiatorIdentity, responderIdentity);
}

/**
 * Initiator side of X3DH (§3.3) followed by the Double Ratchet initialization (§3.3 of the
 * Double Ratchet spec, "RatchetInitAlice"): verifies the signed prekey, derives SK from
 * DH1..DH4, and returns a session that sends the init fields until the first reply.
 * With a KEM prekey in the bundle this is PQXDH (§3.3): (CT, SS) = PQKEM-ENC(PQPK), SK =
 * KDF(DH1 ‖ DH2 ‖ DH3 [‖ DH4] ‖ SS), and CT with the KEM prekey's id joins the init fields.
 * @throws ProtocolError `E_BAD_KEY` for a bad signature or invalid keys (a KEM key failing
 *   the FIPS 203 input checks included).
 */
export function initiateSession(
  own: IdentityKeyPair,
  bundle: PrekeyBundle,
  random: RandomSource = secureRandom,
): SessionState {
  if (
    !verifyPrekeySignature(bundle.identityKey, bundle.signedPrekey, bundle.signedPrekeySignature)
  ) {
    throw new ProtocolError(
      ErrorCode.BAD_KEY,
      'the signed prekey is not signed by the identity key',
    );
  }
  const ephemeral = generateX25519KeyPair(random);
  const ownX = identityToX25519Secret(own.secretKey);
  const dh = [
    x25519SharedSecret(ownX, bundle.signedPrekey),
    x25519SharedSecret(ephemeral.secretKey, identityToX25519Public(bundle.identityKey)),
    x25519SharedSecret(ephemeral.secretKey, bundle.signedPrekey),
  ];
  if (bundle.oneTimePrekey)
    dh.push(x25519SharedSecret(ephemeral.secretKey, bundle.oneTimePrekey.publicKey));
  const encapsulated = bundle.kemPrekey && kemEncapsulate(bundle.kemPrekey.publicKey, random);
  const sk = x3dhSecret(dh, encapsulated?.sharedSecret);
  for (const secret of dh) secret.fill(0);
  encapsulated?.sharedSecret.fill(0);
  ownX.fill(0);

  const sendRatchet = generateX25519KeyPair(random);
  const dhOut = x25519SharedSecret(sendRatchet.secretKey, bundle.signedPrekey);
  const { rootKey, chainKey } = kdfRootKey(sk, dhOut);
  sk.fill(0);
  dhOut.fill(0);
  const init: X3dhInit = {
    identityKey: own.publicKey.slice(),
    ephemeralKey: ephemeral.publicKey,
    signedPrekey: bundle.signedPrekey.slice(),
    ...(bundle.oneTimePrekey ? { oneTimePrekeyId: bundle.oneTimePrekey.id } : {}),
    ...(encapsulated && bundle.kemPrekey
      ? { kem: { id: bundle.kemPrekey.id, cipherText: encapsulated.cipherText } }
      : {}),
  };
  ephemeral.secretKey.fill(0);
  return {
    version: 1,
    ad: associatedData(own.publicKey, bundle.identityKey),
    peerIdentity: bundle.identityKey.slice(),
    rootKey,
    sendRatchet,
    recvRatchet: bundle.signedPrekey.slice(),
    sendChain: chainKey,
    ns: 0,
    nr: 0,
    pn: 0,
    skipped: [],
    previousRatchets: [],
    pendingInit: init,
    initEphemeral: init.ephemeralKey.slice(),
    ...(init.kem ? { pq: true as const } : {}),
  };
}

/**
 * Responder side (X3DH §3.4, "RatchetInitBob"): recomputes SK from the init fields with our
 * signed prekey and, if named, the one-time prekey's secret (which the caller must then
 * delete: each is used once). The first message is decrypted with ratchetDecrypt.
 * A PQXDH init (§3.4) also needs the decapsulation key of the KEM prekey it names: SS =
 * PQKEM-DEC(PQPK, CT) joins the KDF input (a one-time KEM prekey is then deleted too).
 * @throws ProtocolError `E_RATCHET_UNKNOWN_PREKEY` when the init names a prekey we do not
 *   hold (a stale signed prekey, or a one-time prekey already used: a replayed init).
 */
export function acceptSession(
  own: IdentityKeyPair,
  ownSignedPrekey: X25519KeyPair,
  init: X3dhInit,
  oneTimePrekeySecret: Uint8Array | undefined,
  kemSecretKey?: Uint8Array,
): SessionState {
  if (!equal(init.signedPrekey, ownSignedPrekey.publicKey)) {
    throw new ProtocolError(
      ErrorCode.RATCHET_UNKNOWN_PREKEY,
      'the message was made for a signed prekey we no longer hold',
    );
  }
  if (init.oneTimePrekeyId !== undefined && oneTimePrekeySecret === undefined) {
    throw new ProtocolError(
      ErrorCode.RATCHET_UNKNOWN_PREKEY,
      'the one-time prekey it names was already used',
    );
  }
  if (init.kem && kemSecretKey === undefined) {
    throw new ProtocolError(
      ErrorCode.RATCHET_UNKNOWN_PREKEY,
      'the KEM prekey it names is not held (already used, or deleted after rotation)',
    );
  }
  const kemSecret = init.kem && kemSecretKey && kemDecapsulate(init.kem.cipherText, kemSecretKey);
  const ownX = identityToX25519Secret(own.secretKey);
  const dh = [
    x25519SharedSecret(ownSignedPrekey.secretKey, identityToX25519Public(init.identityKey)),
    x25519SharedSecret(ownX, init.ephemeralKey),
    x25519SharedSecret(ownSignedPrekey.secretKey, init.ephemeralKey),
  ];
  if (oneTimePrekeySecret) dh.push(x25519SharedSecret(oneTimePrekeySecret, init.ephemeralKey));
  const sk = x3dhSecret(dh, kemSecret);
  for (const secret of dh) secret.fill(0);
  kemSecret?.fill(0);
  ownX.fill(0);
  return {
    version: 1,
    ad: associatedData(init.identityKey, own.publicKey),
    peerIdentity: init.identityKey.slice(),
    rootKey: sk,
    sendRatchet: {
      secretKey: ownSignedPrekey.secretKey.slice(),
      publicKey: ownSignedPrekey.publicKey.slice(),
    },
    ns: 0,
    nr: 0,
    pn: 0,
    skipped: [],
    previousRatchets: [],
    initEphemeral: init.ephemeralKey.slice(),
    ...(kemSecret ? { pq: true as const } : {}),
  };
}

export { equal as constantTimeEqual };
