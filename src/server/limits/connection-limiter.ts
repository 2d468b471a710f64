/** Why a connection was refused at accept time. */
export type AdmitRefusal = 'global_cap' | 'per_ip_cap' | 'penalized';

export interface ConnectionLimits {
  /** Connections open at once, all sources together. */
  maxConnections: number;
  /** Connections open at once from one address. */
  maxPerIp: number;
  /** How long an address that was disconnected for abuse is refused. */
  penaltyMs: number;
  /** Abuse disconnects within `penaltyMs` that trigger the penalty. */
  strikes: number;
}

/**
 * Global and per-address connection caps, plus a penalty box for repeated offenders.
 * Addresses are the real client addresses (after the PROXY protocol when enabled). Nothing
 * is exempt, not even loopback: behind `ngrok tcp` every client arrives from the agent.
 * Bounded: entries are dropped as soon as an address has no connection and no penalty.
 */
export class ConnectionLimiter {
  readonly limits: ConnectionLimits;
  #open = 0;
  #perIp = new Map<string, number>();
  #strikes = new Map<string, number[]>();
  #penalizedUntil = new Map<string, number>();

  constructor(limits: ConnectionLimits) {
    this.limits = limits;
  }

  get open(): number {
    return this.#open;
  }

  /** Open connections per address key (a copy). */
  counts(): Map<string, number> {
    return new Map(this.#perIp);
  }

  /** Number of addresses in the penalty box (expired ones are pruned lazily). */
  get penalized(): number {
    return this.#penalizedUntil.size;
  }

  /** Registers a new connection, or says why it must be refused. */
  tryOpen(address: string, now: number): AdmitRefusal | undefined {
    const until = this.#penalizedUntil.get(address);
    if (until !== undefined) {
      if (until > now) return 'penalized';
      this.#penalizedUntil.delete(address);
    }
    if (this.#open >= this.limits.maxConnections) return 'global_cap';
    const count = this.#perIp.get(address) ?? 0;
    if (count >= this.limits.maxPerIp) return 'per_ip_cap';
    this.#perIp.set(address, count + 1);
    this.#open++;
    return undefined;
  }

  /** A connection registered with {@link tryOpen} closed. */
  close(address: string): void {
    const count = this.#perIp.get(address);
    if (count === undefined) return;
    if (count <= 1) this.#perIp.delete(address);
    else this.#perIp.set(address, count - 1);
    this.#open--;
  }

  /**
   * Milliseconds `key` (an address, or `id:<identity>` behind a shared address) is still
   * refused, or 0.
   */
  penalizedFor(key: string, now: number): number {
    const until = this.#penalizedUntil.get(key);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.#penalizedUntil.delete(key);
    return 0;
  }

  /** Penalizes `key` until `until` (another node of a cluster decided it). */
  penalize(key: string, until: number): void {
    if ((this.#penalizedUntil.get(key) ?? 0) < until) this.#penalizedUntil.set(key, until);
  }

  /**
   * Records an abuse disconnect (flooding, oversized frames, not reading). After
   * `strikes` of them within `penaltyMs`, the address is refused for `penaltyMs`. Behind a
   * shared address the key is the identity (`id:<key>`), refused at its hello instead.
   * Returns true when this strike put the key in the penalty box.
   */
  strike(address: string, now: number): boolean {
    const recent = (this.#strikes.get(address) ?? []).filter(
      (t) => now - t < this.limits.penaltyMs,
    );
    recent.push(now);
    if (recent.length >= this.limits.strikes) {
      this.#strikes.delete(address);
      this.#penalizedUntil.set(address, now + this.limits.penaltyMs);
      if (this.#penalizedUntil.size > 100_000) this.#prune(now);
      return true;
    }
    this.#strikes.set(address, recent);
    if (this.#strikes.size > 100_000) this.#prune(now);
    return false;
  }

  #prune(now: number): void {
    for (const [address, until] of this.#penalizedUntil)
      if (until <= now) this.#penalizedUntil.delete(address);
    for (const [address, times] of this.#strikes) {
      if (times.every((t) => now - t >= this.limits.penaltyMs)) this.#strikes.delete(address);
    }
  }
}
