import { nameKey } from '../../protocol/index.js';
import { type NameLimits, type NameRefusal, refusal, type SharedNameRates } from '../name-quota.js';
import type { ClusterRates, RateWindow } from './cluster-rates.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The name rates of name-quota.ts for the whole cluster, in Redis windows. */
export class ClusterNames implements SharedNameRates {
  #rates: ClusterRates;
  #limits: NameLimits;

  constructor(rates: ClusterRates, limits: NameLimits) {
    this.#rates = rates;
    this.#limits = limits;
  }

  #common(addressKey: string | undefined): RateWindow[] {
    const windows: RateWindow[] = [];
    if (addressKey !== undefined)
      windows.push({
        key: `names:addr:${addressKey}`,
        limit: this.#limits.newNamesPerAddress,
        windowMs: DAY,
      });
    windows.push({ key: 'names:all', limit: this.#limits.newNamesPerHour, windowMs: HOUR });
    return windows;
  }

  #refusal(window: RateWindow | undefined): NameRefusal {
    const l = this.#limits;
    if (window?.key.startsWith('names:id:'))
      return refusal(
        `this identity took ${l.newNamesPerIdentity} new names today`,
        'identity_rate',
      );
    if (window?.key.startsWith('names:addr:'))
      return refusal(`your address took ${l.newNamesPerAddress} new names today`, 'address_rate');
    return refusal('the server takes no more new names this hour', 'server_rate');
  }

  async takeV1(
    name: string,
    addressKey: string | undefined,
    now: number,
  ): Promise<NameRefusal | undefined> {
    const seenKey = `v1:${addressKey ?? 'shared'}|${nameKey(name)}`;
    if (await this.#rates.seen(seenKey, DAY)) return undefined; // a returning v1 user
    const windows = this.#common(addressKey);
    const taken = await this.#rates.take(windows, now);
    return taken.ok ? undefined : this.#refusal(windows[taken.index]);
  }

  async takeBinding(
    identityKey: string,
    addressKey: string | undefined,
    now: number,
  ): Promise<{ refused: NameRefusal } | { refund: () => Promise<void> }> {
    const windows: RateWindow[] = [
      { key: `names:id:${identityKey}`, limit: this.#limits.newNamesPerIdentity, windowMs: DAY },
      ...this.#common(addressKey),
    ];
    const taken = await this.#rates.take(windows, now);
    if (!taken.ok) return { refused: this.#refusal(windows[taken.index]) };
    return { refund: () => this.#rates.refund(windows, taken.token) };
  }
}
