/**
 * Trust floors: the most a name (or a server) was ever seen offering, which the server's
 * later word cannot lower. Pure functions; the trust store keeps the floors, the peer book
 * compares what is offered now with them.
 */

/** Security properties a peer can offer; each one a hostile server would like to strip. */
export const SecurityFeature = {
  /** A v2 identity key that signs the peer's X25519 key (and authenticates ratchet inits). */
  identity: 'identity',
  /** Forward-secret sessions (X3DH + Double Ratchet), offered by the peer and the server. */
  ratchet: 'ratchet',
  /**
   * Rotating signed prekeys (`spk`, offered by the peer and the server): first messages go
   * to a key whose secret is deleted after a week or two, not to the long-lived hello key.
   */
  spk: 'spk',
  /**
   * Post-quantum session setup (`pq`, offered by the peer and the server): new sessions are
   * PQXDH (X25519 + ML-KEM-1024), which a recording cannot be opened from later by a
   * quantum computer.
   */
  pq: 'pq',
} as const;
export type SecurityFeature = (typeof SecurityFeature)[keyof typeof SecurityFeature];

const ORDER: readonly SecurityFeature[] = [
  SecurityFeature.identity,
  SecurityFeature.ratchet,
  SecurityFeature.spk,
  SecurityFeature.pq,
];

/** What a user loses when a feature goes, as the UI says it. */
export const FEATURE_LOSS: Record<SecurityFeature, string> = {
  identity: 'identity',
  ratchet: 'forward secrecy',
  spk: 'rotating signed prekeys',
  pq: 'post-quantum session setup',
};

/** The highest protocol version and features a name was seen with on one server. */
export interface TrustFloor {
  v: number;
  features: SecurityFeature[];
}

/** What a directory entry (or an envelope) offers right now. */
export interface Offer {
  v: number;
  /** The entry has an identity key and its signature over the X25519 key verifies. */
  identity: boolean;
  /** The peer announces `ratchet` (or the message came through the ratchet). */
  ratchet: boolean;
  /** The server's welcome offers `ratchet` (without it nobody gets forward secrecy). */
  serverRatchet: boolean;
  /** The peer announces `spk` (rotating signed prekeys). */
  spk?: boolean;
  /** The server's welcome offers `spk` (it stores and hands out signed prekeys). */
  serverSpk?: boolean;
  /** The peer announces `pq` (PQXDH with ML-KEM-1024 prekeys). */
  pq?: boolean;
  /** The server's welcome offers `pq` (it stores and hands out KEM prekeys). */
  serverPq?: boolean;
}

/**
 * Features an offer delivers (ratchet needs an identity and the server's support; signed
 * prekeys need the ratchet and the server's support too).
 */
export function offeredFeatures(offer: Offer): SecurityFeature[] {
  const out: SecurityFeature[] = [];
  if (offer.identity) out.push(SecurityFeature.identity);
  const ratchet = offer.identity && offer.ratchet && offer.serverRatchet;
  if (ratchet) out.push(SecurityFeature.ratchet);
  if (ratchet && offer.spk && offer.serverSpk) out.push(SecurityFeature.spk);
  if (ratchet && offer.pq && offer.serverPq) out.push(SecurityFeature.pq);
  return out;
}

/** Features of the floor that the offer does not deliver, in a stable order. */
export function missingFeatures(
  floor: TrustFloor | undefined,
  offered: readonly SecurityFeature[],
): SecurityFeature[] {
  if (!floor) return [];
  return ORDER.filter((f) => floor.features.includes(f) && !offered.includes(f));
}

/** The floor after seeing `offered` at version `v`; undefined when it does not rise. */
export function raisedFloor(
  floor: TrustFloor | undefined,
  v: number,
  offered: readonly SecurityFeature[],
): TrustFloor | undefined {
  const features = ORDER.filter((f) => floor?.features.includes(f) || offered.includes(f));
  const version = Math.max(floor?.v ?? 1, v);
  if (floor && version === floor.v && features.length === floor.features.length) return undefined;
  return { v: version, features };
}

/** `["identity", "forward secrecy"]` for a list of lost features. */
export function lossLabels(lost: readonly SecurityFeature[]): string[] {
  return ORDER.filter((f) => lost.includes(f)).map((f) => FEATURE_LOSS[f]);
}

/** "no identity, no forward secrecy". */
export function describeLoss(lost: readonly SecurityFeature[]): string {
  return lossLabels(lost)
    .map((label) => `no ${label}`)
    .join(', ');
}

/** Reads a stored floor, dropping anything unknown (files are user-editable). */
export function readFloor(value: unknown): TrustFloor | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as { v?: unknown; features?: unknown };
  if (!Number.isSafeInteger(raw.v) || !Array.isArray(raw.features)) return undefined;
  return {
    v: raw.v as number,
    features: ORDER.filter((f) => (raw.features as unknown[]).includes(f)),
  };
}
