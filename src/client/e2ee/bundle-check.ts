import {
  type BundleFrame,
  Capability,
  ErrorCode,
  fromBase64,
  kemPrekeyRecord,
  MLKEM1024_PUBLIC_KEY_BYTES,
  type PrekeyBundle,
  ProtocolError,
  SIGNED_PREKEY_MAX_AGE_MS,
  SignedPrekeyKind,
  signedPrekeyFresh,
  verifyKemPrekey,
  verifySignedPrekey,
} from '../../protocol/index.js';

const DAY_MS = 24 * 3_600_000;

/**
 * Turns a server's `bundle` answer into X3DH input, refusing what a server that lies could
 * use against a first message:
 * - a signed prekey (`spk`) whose signature over id, creation time and key does not verify;
 * - one older than {@link SIGNED_PREKEY_MAX_AGE_MS} (or from the future): an old key kept
 *   alive, whose secret its owner deleted (or someone stole);
 * - no signed prekey at all for a peer seen with them (`requireSignedPrekey`): a downgrade to
 *   the long-lived hello key, which one later key theft would open.
 * - a KEM prekey (PQXDH) whose signature (over id, time, last-resort flag and key, in its own
 *   domain) does not verify, or a last-resort one older than the signed-prekey limit;
 * - no KEM prekey for a peer seen with `pq` (`requirePq`): a downgrade to X3DH, which a
 *   later quantum computer could open from a recording.
 * Bundles of peers without `spk` (older clients, older servers) use the hello key as before;
 * bundles without a KEM prekey from peers never seen with `pq` give plain X3DH.
 * @throws ProtocolError `E_BAD_KEY`.
 */
export function checkBundle(
  bundle: BundleFrame,
  now: number,
  requireSignedPrekey: boolean,
  requirePq = false,
): PrekeyBundle {
  const identityKey = fromBase64(bundle.idk, 'idk', 32);
  const signedPrekey = fromBase64(bundle.pub, 'pub', 32);
  if (bundle.spk) {
    const record = {
      kind: SignedPrekeyKind.x25519,
      id: bundle.spk.id,
      created: bundle.spk.created,
      publicKey: signedPrekey,
    };
    if (!verifySignedPrekey(identityKey, record, fromBase64(bundle.spk.sig, 'spk.sig', 64))) {
      throw new ProtocolError(
        ErrorCode.BAD_KEY,
        `${bundle.user}'s signed prekey is not signed by their identity key`,
      );
    }
    if (!signedPrekeyFresh(bundle.spk.created, now)) {
      const days = Math.round((now - bundle.spk.created) / DAY_MS);
      throw new ProtocolError(
        ErrorCode.BAD_KEY,
        `${bundle.user}'s signed prekey is ${days >= 0 ? `${days} days old` : 'dated in the future'}: the server may be keeping an old key alive`,
      );
    }
  } else if (requireSignedPrekey) {
    throw new ProtocolError(
      ErrorCode.BAD_KEY,
      `${bundle.user} was seen with rotating signed prekeys, but the server offered only their long-lived key`,
    );
  }
  const kemPrekey = checkKemPrekey(bundle, identityKey, now, requirePq);
  return {
    ...(kemPrekey ? { kemPrekey } : {}),
    identityKey,
    signedPrekey,
    signedPrekeySignature: fromBase64(bundle.sig, 'sig', 64),
    ...(bundle.opk
      ? {
          oneTimePrekey: { id: bundle.opk.id, publicKey: fromBase64(bundle.opk.pub, 'opk', 32) },
        }
      : {}),
  };
}

/** The bundle's KEM prekey, checked; undefined when it has none and none is required. */
function checkKemPrekey(
  bundle: BundleFrame,
  identityKey: Uint8Array,
  now: number,
  requirePq: boolean,
): { id: number; publicKey: Uint8Array } | undefined {
  if (!bundle.kem) {
    if (!requirePq) return undefined;
    throw new ProtocolError(
      ErrorCode.BAD_KEY,
      `${bundle.user} was seen with post-quantum session setup (pq), but the server offered no KEM prekey: refusing a downgrade to X3DH`,
    );
  }
  const publicKey = fromBase64(bundle.kem.pub, 'kem.pub', MLKEM1024_PUBLIC_KEY_BYTES);
  const lastResort = bundle.kem.last === true;
  const record = kemPrekeyRecord(bundle.kem, lastResort, publicKey);
  if (!verifyKemPrekey(identityKey, record, fromBase64(bundle.kem.sig, 'kem.sig', 64))) {
    throw new ProtocolError(
      ErrorCode.BAD_KEY,
      `${bundle.user}'s KEM prekey is not signed by their identity key`,
    );
  }
  if (lastResort && !signedPrekeyFresh(bundle.kem.created, now)) {
    throw new ProtocolError(
      ErrorCode.BAD_KEY,
      `${bundle.user}'s last-resort KEM prekey is too old (or dated in the future): the server may be keeping an old key alive`,
    );
  }
  return { id: bundle.kem.id, publicKey };
}

/** Whether a bundle's (or directory entry's) capabilities say the owner opens random-nonce messages. */
export function opensRandomNonce(caps: readonly string[] | undefined): boolean {
  return caps?.includes(Capability.randomNonce) ?? false;
}
