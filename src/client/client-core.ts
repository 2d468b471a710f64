import type { SenderKeyContent, X25519KeyPair } from '../protocol/index.js';
import type { RatchetPeers } from './e2ee/ratchet-peers.js';
import type { V1KeyCache } from './e2ee/v1-keys.js';
import type { ClientEvent } from './events.js';
import type { LocalIdentity } from './identity/keystore.js';
import type { PeerBook, PeerStatus } from './trust/peer-book.js';
import type { TrustStore } from './trust/trust-store.js';

/** What the outgoing and incoming pipelines share with the chat client. */
export interface ClientCore {
  readonly name: string;
  readonly identity: LocalIdentity | undefined;
  readonly keyPair: X25519KeyPair;
  readonly ownFingerprint: string;
  readonly peers: PeerBook;
  readonly trust: TrustStore | undefined;
  /** `sha256:<hex>` of the server certificate: scope of name → identity trust. */
  readonly serverPin: string;
  readonly v1Keys: V1KeyCache;
  /** Forward-secret sessions, when we have an identity and the server offers `ratchet`. */
  readonly ratchet: RatchetPeers | undefined;
  readonly ready: boolean;
  now(): number;
  send(frame: object): boolean;
  emitEvent(event: ClientEvent): void;
  notice(kind: 'info' | 'warning' | 'error', text: string, code?: string): void;
  /** Asks the server for the directory (to learn a sender's new key). */
  refreshDirectory(): void;
  /**
   * A room sender key arrived over a pairwise session from `from`, authenticated by
   * `identity`, whose standing is `status`.
   */
  onSenderKey(from: string, identity: string, content: SenderKeyContent, status: PeerStatus): void;
}

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
