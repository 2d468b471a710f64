/**
 * Timers as the client keeps them, injected wherever it keeps time (reconnect backoff,
 * heartbeat, request timeouts, maintenance), so tests move a clock instead of sleeping.
 * The time itself is a plain `now: () => number` (milliseconds since the epoch) beside it.
 */

/** A scheduled call; `cancel` stops it (again is harmless). */
export interface Timer {
  cancel(): void;
}

export interface Timers {
  /**
   * Calls `fn` once, `ms` from now. The timer does not hold the process open unless
   * `keepAlive` (a pending reconnect does).
   */
  after(ms: number, fn: () => void, options?: { keepAlive?: boolean }): Timer;
  /** Calls `fn` every `ms`, never holding the process open. */
  every(ms: number, fn: () => void): Timer;
}

/** Node's timers. */
export const systemTimers: Timers = {
  after(ms, fn, options) {
    const timeout = setTimeout(fn, ms);
    if (!options?.keepAlive) timeout.unref();
    return { cancel: () => clearTimeout(timeout) };
  },
  every(ms, fn) {
    const interval = setInterval(fn, ms);
    interval.unref();
    return { cancel: () => clearInterval(interval) };
  },
};
