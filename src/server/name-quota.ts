import { nameKey } from '../protocol/index.js';
import { WindowCounter } from './limits/window-counter.js';
import type { ServerStore } from './store/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** v1 names remembered per address (for "new name?"), at most. */
const MAX_REMEMBERED_V1_NAMES = 100_000;

export interface NameLimits {
  /** Names one identity may hold. */
  namesPerIdentity: number;
  /** New names one identity may take per day. */
  newNamesPerIdentity: number;
  /** New names (v2 bindings and v1 names) per real address per day. */
  newNamesPerAddress: number;
  /** New names from everyone together per hour: the backstop when addresses are shared. */
  newNamesPerHour: number;
}

export interface NameRefusal {
  text: string;
  reason: string;
}

/**
 * The same name rates for a whole cluster (cluster/cluster-names.ts), checked after this
 * node's own: a client spreading its hellos over several nodes gets no more names.
 */
export interface SharedNameRates {
  /** A v1 name new to this address today: counted, or refused. */
  takeV1(
    name: string,
    addressKey: string | undefined,
    now: number,
  ): Promise<NameRefusal | undefined>;
  /** A new binding: counted (with a refund for when the claim does not create it), or refused. */
  takeBinding(
    identityKey: string,
    addressKey: string | undefined,
    now: number,
  ): Promise<{ refused: NameRefusal } | { refund: () => Promise<void> }>;
}

/**
 * Names are free, so taking new ones is capped and rated: per identity (a cap on names
 * held and a rate per day), per real address (v1 names included: a v1 name counts once per
 * address and day), and for everyone together per hour. Returning users are never counted:
 * only names this identity or address did not use before.
 */
export class NameQuota {
  #store: ServerStore;
  #limits: NameLimits;
  #perIdentity = new WindowCounter(DAY);
  #perAddress = new WindowCounter(DAY);
  #everyone = new WindowCounter(HOUR, 1);
  #v1Seen = new Map<string, number>();

  constructor(store: ServerStore, limits: NameLimits) {
    this.#store = store;
    this.#limits = limits;
  }

  /**
   * May `identityKey` bind a new name from `addressKey` (undefined: a shared address)? A
   * check only: {@link reserveBinding} records the new name.
   */
  async checkBinding(
    identityKey: string,
    addressKey: string | undefined,
    now: number,
  ): Promise<NameRefusal | undefined> {
    const l = this.#limits;
    if ((await this.#store.countBindings(identityKey)) >= l.namesPerIdentity) return capRefusal(l);
    return this.#rates(identityKey, addressKey, now);
  }

  /**
   * Counts a new name against the rates at once (checked and recorded in one step, so
   * concurrent admissions cannot all pass at the limit); undo with {@link refundBinding}
   * when the name was not bound after all.
   */
  reserveBinding(
    identityKey: string,
    addressKey: string | undefined,
    now: number,
  ): NameRefusal | undefined {
    const refused = this.#rates(identityKey, addressKey, now);
    if (!refused) this.recordBinding(identityKey, addressKey, now);
    return refused;
  }

  /** Takes back a {@link reserveBinding} made at `now`. */
  refundBinding(identityKey: string, addressKey: string | undefined, now: number): void {
    this.#perIdentity.remove(identityKey, now);
    if (addressKey !== undefined) this.#perAddress.remove(addressKey, now);
    this.#everyone.remove('all', now);
  }

  /** Names one identity may hold (checked atomically by the store's claim). */
  get namesPerIdentity(): number {
    return this.#limits.namesPerIdentity;
  }

  /** The refusal for an identity holding its maximum of names. */
  get limits(): NameLimits {
    return this.#limits;
  }

  get capRefusal(): NameRefusal {
    return capRefusal(this.#limits);
  }

  /** Records a new name against the rates (see {@link reserveBinding}). */
  recordBinding(identityKey: string, addressKey: string | undefined, now: number): void {
    this.#perIdentity.tryAdd(identityKey, Number.MAX_SAFE_INTEGER, now);
    this.#record(addressKey, now);
  }

  #rates(
    identityKey: string,
    addressKey: string | undefined,
    now: number,
  ): NameRefusal | undefined {
    const l = this.#limits;
    if (this.#perIdentity.count(identityKey, now) >= l.newNamesPerIdentity)
      return refusal(
        `this identity took ${l.newNamesPerIdentity} new names today`,
        'identity_rate',
      );
    return this.#common(addressKey, now);
  }

  /** May a v1 session take `name` from `addressKey`? Records it when allowed. */
  takeV1(name: string, addressKey: string | undefined, now: number): NameRefusal | undefined {
    const key = `${addressKey ?? 'shared'}|${nameKey(name)}`;
    const seen = this.#v1Seen.get(key);
    if (seen !== undefined && now - seen < DAY) {
      this.#v1Seen.set(key, now);
      return undefined; // a returning v1 user, not a new name
    }
    const refused = this.#common(addressKey, now);
    if (refused) return refused;
    this.#record(addressKey, now);
    this.#v1Seen.delete(key);
    this.#v1Seen.set(key, now);
    if (this.#v1Seen.size > MAX_REMEMBERED_V1_NAMES) {
      for (const [k, t] of this.#v1Seen) {
        if (this.#v1Seen.size <= MAX_REMEMBERED_V1_NAMES && now - t < DAY) break;
        this.#v1Seen.delete(k);
      }
    }
    return undefined;
  }

  #common(addressKey: string | undefined, now: number): NameRefusal | undefined {
    const l = this.#limits;
    if (addressKey !== undefined && this.#perAddress.count(addressKey, now) >= l.newNamesPerAddress)
      return refusal(`your address took ${l.newNamesPerAddress} new names today`, 'address_rate');
    if (this.#everyone.count('all', now) >= l.newNamesPerHour)
      return refusal('the server takes no more new names this hour', 'server_rate');
    return undefined;
  }

  #record(addressKey: string | undefined, now: number): void {
    if (addressKey !== undefined) this.#perAddress.tryAdd(addressKey, Number.MAX_SAFE_INTEGER, now);
    this.#everyone.tryAdd('all', Number.MAX_SAFE_INTEGER, now);
  }
}

function capRefusal(l: NameLimits): NameRefusal {
  return refusal(`this identity already holds ${l.namesPerIdentity} names`, 'identity_cap');
}

export function refusal(why: string, reason: string): NameRefusal {
  return { text: `cannot register a new name: ${why}; try later or use a name you have`, reason };
}
