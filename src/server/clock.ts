/** A timer handle as the clock hands it out (opaque to callers). */
export type TimerHandle = { unref?(): unknown } | number;

/**
 * Where the server takes time from: `now()` and timers. Production uses the system clock
 * (timers unref'd, so they never keep the process alive); tests inject a clock they move by
 * hand, so expiries are tested by moving time, not by sleeping.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The system clock: Date.now and Node's timers, unref'd. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (callback, ms) => setInterval(callback, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout | undefined),
};

/** The system timers with another `now()` (a clock tests move, timers that still run). */
export function clockWith(now: () => number): Clock {
  return { ...systemClock, now };
}

const nows = new WeakMap<Clock, () => number>();

/** `clock.now` as a function of its own, made once per clock (every session shares it). */
export function nowOf(clock: Clock): () => number {
  let now = nows.get(clock);
  if (now === undefined) {
    now = () => clock.now();
    nows.set(clock, now);
  }
  return now;
}
