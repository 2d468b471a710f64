import {
  formatSafetyNumber,
  normalizeSafetyNumber,
  safetyNumber,
  safetyNumbersEqual,
} from '../../protocol/index.js';
import type { EventSink } from '../events.js';
import type { LocalUser } from '../identity/local-user.js';
import type { PeerBook } from './peer-book.js';
import { acceptedText } from './trust-text.js';
import { releaseWithheld, type WithheldMessages } from './withheld.js';

export interface TrustActionsOptions {
  user: LocalUser;
  peers: PeerBook;
  /** Messages held back from senders in question: shown once they are accepted. */
  withheld: WithheldMessages;
  sink: EventSink;
  /** Whether the server's welcome offered a capability. */
  serverOffers(cap: string): boolean;
}

/**
 * What `/verify` and `/trust` do: safety numbers, and the explicit acceptance of changed
 * keys and of downgrades (recorded as the new, lower floor), after which the messages
 * withheld from those senders are shown.
 */
export class TrustActions {
  #options: TrustActionsOptions;

  constructor(options: TrustActionsOptions) {
    this.#options = options;
  }

  /** The 60-digit safety number with `user`, or an error text. */
  safetyNumberWith(user: string): { ok: true; digits: string } | { ok: false; reason: string } {
    const { user: self, peers } = this.#options;
    if (!self.identity) return { ok: false, reason: 'this client has no identity key (v1 mode)' };
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
        { identityKey: self.identity.identity.publicKey, name: self.name },
        { identityKey: peer.idkBytes, name: peer.name },
      ),
    };
  }

  /** `/verify <user> [number]`. */
  verify(user: string, typed?: string): boolean {
    const { sink } = this.#options;
    const result = this.safetyNumberWith(user);
    if (!result.ok) {
      sink.notice('error', result.reason, 'E_VERIFY');
      return false;
    }
    const peer = this.#options.peers.get(user)!;
    if (typed === undefined) {
      sink.notice(
        'info',
        `safety number with ${peer.name}:\n  ${formatSafetyNumber(result.digits)}\n` +
          `Compare it with ${peer.name} in person or on a call; if it matches, run /verify ${peer.name} <number>.`,
      );
      return true;
    }
    const normalized = normalizeSafetyNumber(typed);
    if (!normalized) {
      sink.notice('error', 'a safety number has 60 digits (12 groups of 5)', 'E_VERIFY');
      return false;
    }
    if (!safetyNumbersEqual(normalized, result.digits)) {
      sink.notice(
        'warning',
        `the number you entered does NOT match the safety number with ${peer.name}. ` +
          'Do not trust this conversation: the server or someone else may be in the middle.',
        'E_VERIFY_MISMATCH',
      );
      return false;
    }
    this.#options.peers.markVerified(peer);
    sink.notice('info', `${peer.name} is now verified ✓ (identity ${peer.identityFingerprint})`);
    return true;
  }

  /**
   * `/trust <user>`: accept the peer's current standing after checking: a changed identity
   * key, a downgrade (what is lost is said, and recorded as the new floor), or a key that
   * does not match an invite. Then shows what was withheld from them.
   */
  accept(user: string): boolean {
    const { peers, sink } = this.#options;
    const peer = peers.get(user);
    if (!peer) {
      sink.notice('error', `${user} is not online`, 'E_TRUST');
      return false;
    }
    if (peer.idk && !peers.signatureValid(peer)) {
      sink.notice(
        'error',
        `${peer.name}'s key signature does not verify; it cannot be trusted`,
        'E_TRUST',
      );
      return false;
    }
    const assessment = peers.assess(peer);
    if (assessment.status === 'legacy') {
      sink.notice(
        'error',
        `${peer.name} is a legacy (v1) client with no identity key to trust`,
        'E_TRUST',
      );
      return false;
    }
    peers.trustCurrent(peer);
    sink.notice(
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
  acceptServer(): boolean {
    const { peers, sink } = this.#options;
    if (!peers.remembers) {
      sink.notice('error', 'this client keeps no trust records (--legacy)', 'E_TRUST');
      return false;
    }
    if (this.#options.serverOffers('ratchet')) {
      sink.notice('info', 'this server offers forward secrecy: there is nothing to accept');
      return false;
    }
    const lowered = peers.acceptServerWithoutRatchet();
    sink.notice(
      'info',
      `accepted this server without forward secrecy: messages to everyone here go without it ` +
        `(${lowered} ${lowered === 1 ? 'person' : 'people'} you saw with it before) until it offers it again`,
    );
    this.#release();
    return true;
  }

  #release(): void {
    const { withheld, peers, sink } = this.#options;
    const shown = releaseWithheld(withheld, peers, sink);
    if (shown > 0)
      sink.notice('info', `showing ${shown} withheld message${shown === 1 ? '' : 's'}`);
  }
}
