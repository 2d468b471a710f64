/** A name bound to an identity key on first use (protocol v2). */
export interface IdentityBinding {
  /** Name as first registered (display form). */
  name: string;
  /** Base64 Ed25519 public key. */
  identityKey: string;
  firstSeen: number;
  lastSeen: number;
}

/**
 * What the server persists. Behind an interface so the embedded SQLite store can be
 * replaced (Redis for scale-out) without touching sessions.
 */
export interface ServerStore {
  /** Binding of a name (case-insensitive), if any. */
  getBinding(name: string): IdentityBinding | undefined;
  /**
   * Binds `name` to `identityKey` unless the name is already bound; returns the binding
   * that holds after the call and whether this call created it. Atomic.
   */
  bindName(
    name: string,
    identityKey: string,
    now: number,
  ): { binding: IdentityBinding; created: boolean };
  /** Records a successful login of a bound name. */
  touchBinding(name: string, now: number): void;
  close(): void;
}
