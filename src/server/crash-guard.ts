import { systemClock } from './clock.js';
import { LogThrottle } from './log-throttle.js';
import type { Logger } from './logger.js';
import type { ServerStats } from './stats.js';

/** The part of `process` the guard listens on (an EventEmitter in tests). */
export interface ProcessEvents {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
}

/**
 * The last line of defence: an error no handler caught (every session handler already
 * turns its own into `E_INTERNAL`) is logged with its stack and counted, and the daemon
 * keeps serving everyone else instead of dying. Logged at most once per kind per 10 s, with
 * a count of what was held back.
 */
export function installCrashGuard(
  process: ProcessEvents,
  logger: Logger,
  stats: ServerStats,
  now: () => number = systemClock.now,
): void {
  const throttle = new LogThrottle(10_000);
  const report = (kind: string, error: unknown) => {
    stats.internalErrors.inc(kind);
    const suppressed = throttle.allow(kind, now());
    if (suppressed === undefined) return;
    logger.error(
      { event: 'process.error', kind, err: error, ...(suppressed > 0 ? { suppressed } : {}) },
      'an error escaped every handler; the server keeps serving',
    );
  };
  process.on('unhandledRejection', (reason) => report('unhandled_rejection', reason));
  process.on('uncaughtException', (error) => report('uncaught_exception', error));
}
