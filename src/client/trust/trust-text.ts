import type { Peer, PeerAssessment } from './peer-book.js';
import { describeLoss, lossLabels } from './trust-floor.js';
import { fingerprintOfKey, type KnownPeer } from './trust-store.js';

/** Stable codes of trust alerts (client side, in `--json` events and notices). */
export const TrustCode = {
  keyChanged: 'E_KEY_CHANGED',
  downgrade: 'E_DOWNGRADE',
  inviteMismatch: 'E_INVITE_MISMATCH',
  badSignature: 'E_BAD_KEY_SIGNATURE',
  serverDowngrade: 'E_SERVER_DOWNGRADE',
} as const;

export interface TrustAlert {
  code: string;
  text: string;
  lost: string[];
}

/** What a downgrade means in one phrase: "unauthenticated v1 for bob" or "bob without …". */
function downgradeSubject(peer: Peer, lost: PeerAssessment['lost']): string {
  if (lost.includes('identity'))
    return `unauthenticated v1 for ${peer.name}: ${describeLoss(lost)}`;
  return lost.includes('ratchet')
    ? `${peer.name} without forward secrecy`
    : `${peer.name} with ${describeLoss(lost)}`;
}

const blocked = (name: string) => `Messages to and from ${name} are blocked`;

/**
 * The loud alert for a peer whose standing is `changed` or `invalid`, saying why and what
 * accepting it would give up. Undefined for peers in good standing.
 */
export function trustAlert(
  peer: Peer,
  assessment: PeerAssessment,
  known: KnownPeer | undefined,
): TrustAlert | undefined {
  const { status, reason, lost } = assessment;
  if (status === 'invalid') {
    return {
      code: TrustCode.badSignature,
      text: `${peer.name}'s X25519 key is not signed by their identity key: the server may be swapping keys. Not encrypting to ${peer.name}.`,
      lost: [],
    };
  }
  if (status !== 'changed') return undefined;
  if (reason === 'invite') {
    const shown = peer.identityFingerprint ?? 'no identity at all';
    return {
      code: TrustCode.inviteMismatch,
      text:
        `${peer.name}'s identity ${shown} does not match the invite (expected ${known?.expected}): ` +
        `the server may be in the middle. ${blocked(peer.name)}. Check with ${peer.name} out of band; ` +
        `/trust ${peer.name} only if they confirm ${shown}.`,
      lost: lossLabels(lost),
    };
  }
  if (reason === 'downgrade') {
    const what = lost.includes('identity')
      ? `is now listed as a legacy (v1) client: ${describeLoss(lost)}`
      : lost.includes('ratchet')
        ? 'is now offered without forward secrecy (no ratchet)'
        : `is now offered with ${describeLoss(lost)}`;
    return {
      code: TrustCode.downgrade,
      text:
        `DOWNGRADE: ${peer.name} ${what}, less than you saw before. It may be an older client, or the ` +
        `server in the middle. ${blocked(peer.name)}; to accept ${downgradeSubject(peer, lost)}, ` +
        `/trust ${peer.name}.`,
      lost: lossLabels(lost),
    };
  }
  const before = known?.identityKey ? fingerprintOfKey(known.identityKey) : undefined;
  return {
    code: TrustCode.keyChanged,
    text:
      `SAFETY NUMBER CHANGED: ${peer.name} now has identity ${peer.identityFingerprint}` +
      `${before ? ` (was ${before})` : ''}. It may be a new device, or someone in the middle. ` +
      `${blocked(peer.name)} until you compare safety numbers (/verify ${peer.name}) and accept ` +
      `the key (/trust ${peer.name}).`,
    lost: [],
  };
}

/** The confirmation after `/trust` accepted a `changed` peer. */
export function acceptedText(peer: Peer, assessment: PeerAssessment): string {
  if (assessment.reason === 'downgrade') {
    return `accepted ${downgradeSubject(peer, assessment.lost)} (recorded as the new floor; anything more seen later raises it again)`;
  }
  if (assessment.reason === 'invite') {
    return `accepted ${peer.name}'s identity ${peer.identityFingerprint ?? '(none)'} although it does not match the invite (not verified: use /verify ${peer.name})`;
  }
  return `accepted ${peer.name}'s new identity ${peer.identityFingerprint} (not verified: use /verify ${peer.name})`;
}
