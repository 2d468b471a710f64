/**
 * Lets one log line per key through per interval and counts what it held back, so a
 * scanner hammering the port cannot flood the log (the counters still see everything).
 */
export class LogThrottle {
  #intervalMs: number;
  #last = new Map<string, { at: number; suppressed: number }>();
  #maxKeys: number;

  constructor(intervalMs: number, maxKeys = 10_000) {
    this.#intervalMs = intervalMs;
    this.#maxKeys = maxKeys;
  }

  /** Returns undefined to stay quiet, or the number of lines suppressed since the last one. */
  allow(key: string, now: number): number | undefined {
    const entry = this.#last.get(key);
    if (entry && now - entry.at < this.#intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    if (!entry && this.#last.size >= this.#maxKeys) {
      for (const [k, v] of this.#last) if (now - v.at >= this.#intervalMs) this.#last.delete(k);
      if (this.#last.size >= this.#maxKeys) return undefined;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }
}
