import {
  formatSafetyNumber,
  identityFingerprint,
  normalizeSafetyNumber,
  safetyNumber,
  safetyNumbersEqual,
} from '../../protocol/index.js';
import type { LocalIdentity } from '../identity/keystore.js';
import type { PeerBook } from './peer-book.js';
import type { TrustStore } from './trust-store.js';
import { acceptedText } from './trust-text.js';

type Notify = (kind: 'info' | 'warning' | 'error', text: string, code?: string) => void;

interface TrustHost {
  readonly name: string;
  readonly identity: LocalIdentity | undefined;
  readonly peers: PeerBook;
  readonly trust: TrustStore | undefined;
  serverOffers(cap: string): boolean;
  /** Shows withheld messages whose senders are now accepted; returns how many. */
  releaseWithheld(): number;
}

/**
 * `/verify` and `/trust`: safety numbers, and explicit acceptance of changed keys and of
 * downgrades (recorded as the new, lower floor).
 */
export class TrustCommands {
  #host: TrustHost;
  #notify: Notify;

  constructor(host: TrustHost, notify: Notify) {
    this.#host = host;
    this.#notify = notify;
  }

  /** Our identity fingerprint (v2), or a note that there is none. */
  ownIdentityFingerprint(): string {
    const identity = this.#host.identity;
    return identity ? identityFingerprint(identity.identity.publicKey) : '(none: v1 mode)';
  }

  /** The 60-digit safety number with `user`, or an error text. */
  safetyNumberWith(user: string): { ok: true; digits: string } | { ok: false; reason: string } {
    const { identity, peers, name } = this.#host;
    if (!identity) return { ok: false, reason: 'this client has no identity key (v1 mode)' };
    const peer = peers.get(user);
    if (!peer) return { ok: false, reason: `${user} is not online` };
    if (!peer.idkBytes) {
      return {
        ok: false,
        reason: `${peer.name} is a legacy (v1) client: there is no identity to verify; compare /fp ${peer.name} out of band instead`,
      };
    }
    if (peers.status(peer) === 'invalid') {
      return {
        ok: false,
        reason: `${peer.name}'s key signature does not verify; nothing to compare`,
      };
    }
    return {
      ok: true,
      digits: safetyNumber(
        { identityKey: identity.identity.publicKey, name },
        { identityKey: peer.idkBytes, name: peer.name },
      ),
    };
  }

  /** `/verify <user> [number]`. */
  verify(user: string, typed?: string): boolean {
    const result = this.safetyNumberWith(user);
    if (!result.ok) {
      this.#notify('error', result.reason, 'E_VERIFY');
      return false;
    }
    const peer = this.#host.peers.get(user)!;
    if (typed === undefined) {
      this.#notify(
        'info',
        `safety number with ${peer.name}:\n  ${formatSafetyNumber(result.digits)}\n` +
          `Compare it with ${peer.name} in person or on a call; if it matches, run /verify ${peer.name} <number>.`,
      );
      return true;
    }
    const normalized = normalizeSafetyNumber(typed);
    if (!normalized) {
      this.#notify('error', 'a safety number has 60 digits (12 groups of 5)', 'E_VERIFY');
      return false;
    }
    if (!safetyNumbersEqual(normalized, result.digits)) {
      this.#notify(
        'warning',
        `the number you entered does NOT match the safety number with ${peer.name}. ` +
          'Do not trust this conversation: the server or someone else may be in the middle.',
        'E_VERIFY_MISMATCH',
      );
      return false;
    }
    this.#host.peers.markVerified(peer);
    this.#notify('info', `${peer.name} is now verified ✓ (identity ${peer.identityFingerprint})`);
    return true;
  }

  /**
   * `/trust <user>`: accept the peer's current standing after checking: a changed identity
   * key, a downgrade (what is lost is said, and recorded as the new floor), or a key that
   * does not match an invite. Then shows what was withheld from them.
   */
  trust(user: string): boolean {
    const peer = this.#host.peers.get(user);
    if (!peer) {
      this.#notify('error', `${user} is not online`, 'E_TRUST');
      return false;
    }
    if (peer.idk && !this.#host.peers.signatureValid(peer)) {
      this.#notify(
        'error',
        `${peer.name}'s key signature does not verify; it cannot be trusted`,
        'E_TRUST',
      );
      return false;
    }
    const assessment = this.#host.peers.assess(peer);
    if (assessment.status === 'legacy') {
      this.#notify(
        'error',
        `${peer.name} is a legacy (v1) client with no identity key to trust`,
        'E_TRUST',
      );
      return false;
    }
    this.#host.peers.trustCurrent(peer);
    this.#notify(
      'info',
      assessment.status === 'changed'
        ? acceptedText(peer, assessment)
        : `${peer.name}'s identity ${peer.identityFingerprint} is trusted`,
    );
    this.#release();
    return true;
  }

  /**
   * `/trust --server`: accept that this server (under its pinned certificate) no longer
   * offers the ratchet: forward secrecy off for everyone on it, recorded as its floor.
   */
  trustServer(): boolean {
    const trust = this.#host.trust;
    if (!trust) {
      this.#notify('error', 'this client keeps no trust records (--legacy)', 'E_TRUST');
      return false;
    }
    if (this.#host.serverOffers('ratchet')) {
      this.#notify('info', 'this server offers forward secrecy: there is nothing to accept');
      return false;
    }
    const lowered = trust.acceptServerWithoutRatchet(this.#host.peers.server);
    this.#notify(
      'info',
      `accepted this server without forward secrecy: messages to everyone here go without it ` +
        `(${lowered} ${lowered === 1 ? 'person' : 'people'} you saw with it before) until it offers it again`,
    );
    this.#release();
    return true;
  }

  #release(): void {
    const shown = this.#host.releaseWithheld();
    if (shown > 0)
      this.#notify('info', `showing ${shown} withheld message${shown === 1 ? '' : 's'}`);
  }
}
