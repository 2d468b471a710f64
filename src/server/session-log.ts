import { TokenBucket } from './limits/token-bucket.js';
import { type Logger, SECURITY_EVENTS } from './logger.js';

export interface SessionLogBudget {
  /** Lines in a burst. */
  burst: number;
  /** Lines per minute after the burst. */
  perMinute: number;
}

/** pino's numbers for `debug` and `info` (its default levels, which the server's logger uses). */
const DEBUG_LEVEL = 20;
const INFO_LEVEL = 30;

type Fields = Record<string, unknown> & { event?: string };

/** Lines written once per session whatever the budget: the record of its end. */
const ALWAYS = new Set(['connection.closed', 'connection.released']);

/**
 * One session's logger (a pino child with `sid`, `remote` and, after the hello, `user`),
 * throttled so one client cannot flood the log: ordinary lines and security events each
 * have a budget per session; what is held back is counted and reported when the session
 * ends. The counters in metrics still see everything.
 *
 * Lazy, because most sessions never log a line at the configured level (a connect costs
 * two `info` lines, and production runs at `info` but benches and busy servers at `warn`):
 * the pino child (with its serialized bindings) and the two budgets are made on the first
 * line that is written; a line below the logger's level is neither charged nor counted.
 */
type Bindings = Record<string, unknown>;

export class SessionLog {
  #parent: Logger;
  /** What every line carries (or what makes it: asked only when the first line is written). */
  #bindings: Bindings | (() => Bindings) | undefined;
  /** Fields added by {@link bind} before the first line. */
  #bound: Bindings | undefined;
  #logger: Logger | undefined;
  #budget: SessionLogBudget;
  #general: TokenBucket | undefined;
  #security: TokenBucket | undefined;
  #now: () => number;
  #suppressedGeneral = 0;
  #suppressedSecurity = 0;

  /**
   * `bindings` go on every line (the child logger is made when the first line is written; a
   * function is called only then, so a session that never logs never formats them).
   */
  constructor(
    logger: Logger,
    budget: SessionLogBudget,
    now: () => number,
    bindings?: Bindings | (() => Bindings),
  ) {
    this.#parent = logger;
    this.#bindings = bindings;
    this.#budget = budget;
    this.#now = now;
  }

  /** Adds fields (the user name after the hello) to every later line. */
  bind(fields: Bindings): void {
    if (this.#logger) this.#logger = this.#logger.child(fields);
    else this.#bound = this.#bound ? { ...this.#bound, ...fields } : fields;
  }

  /** Lines held back so far, ordinary and security. */
  get suppressed(): { general: number; security: number } {
    return { general: this.#suppressedGeneral, security: this.#suppressedSecurity };
  }

  /** Asked once per relay: pino's `levelVal` (a field read) instead of `isLevelEnabled`. */
  get debugEnabled(): boolean {
    return this.#parent.levelVal <= DEBUG_LEVEL;
  }

  /**
   * Asked before the per-connection `info` lines, so a server at `warn` does not even build
   * their fields.
   */
  get infoEnabled(): boolean {
    return this.#parent.levelVal <= INFO_LEVEL;
  }

  debug(fields: Fields, message?: string): void {
    if (this.#allow('debug', fields)) this.#child().debug(fields, message);
  }

  info(fields: Fields, message?: string): void {
    if (this.#allow('info', fields)) this.#child().info(fields, message);
  }

  warn(fields: Fields, message?: string): void {
    if (this.#allow('warn', fields)) this.#child().warn(fields, message);
  }

  error(fields: Fields, message?: string): void {
    if (this.#allow('error', fields)) this.#child().error(fields, message);
  }

  #child(): Logger {
    if (this.#logger) return this.#logger;
    const given = this.#bindings;
    const bindings = typeof given === 'function' ? given() : given;
    const all = this.#bound ? { ...bindings, ...this.#bound } : bindings;
    this.#bindings = undefined;
    this.#bound = undefined;
    this.#logger = all ? this.#parent.child(all) : this.#parent;
    return this.#logger;
  }

  #allow(level: 'debug' | 'info' | 'warn' | 'error', fields: Fields): boolean {
    if (!this.#parent.isLevelEnabled(level)) return false;
    const event = fields.event;
    if (event !== undefined && ALWAYS.has(event)) return true;
    const security = event !== undefined && SECURITY_EVENTS.has(event);
    const now = this.#now();
    if (security) {
      this.#security ??= this.#bucket(now);
      if (this.#security.take(1, now)) return true;
      this.#suppressedSecurity++;
      return false;
    }
    this.#general ??= this.#bucket(now);
    if (this.#general.take(1, now)) return true;
    this.#suppressedGeneral++;
    return false;
  }

  /** A full budget (what a bucket made at connect time would hold by now, unused). */
  #bucket(now: number): TokenBucket {
    const { perMinute, burst } = this.#budget;
    return new TokenBucket(Math.max(perMinute, 1) / 60, Math.max(burst, 1), now);
  }
}
