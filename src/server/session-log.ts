import { TokenBucket } from './limits/token-bucket.js';
import { type Logger, SECURITY_EVENTS } from './logger.js';

export interface SessionLogBudget {
  /** Lines in a burst. */
  burst: number;
  /** Lines per minute after the burst. */
  perMinute: number;
}

type Fields = Record<string, unknown> & { event?: string };

/** Lines written once per session whatever the budget: the record of its end. */
const ALWAYS = new Set(['connection.closed', 'connection.released']);

/**
 * One session's logger (a pino child with `sid`, `remote` and, after the hello, `user`),
 * throttled so one client cannot flood the log: ordinary lines and security events each
 * have a budget per session; what is held back is counted and reported when the session
 * ends. The counters in metrics still see everything.
 */
export class SessionLog {
  #logger: Logger;
  #general: TokenBucket;
  #security: TokenBucket;
  #now: () => number;
  #suppressed = { general: 0, security: 0 };

  constructor(logger: Logger, budget: SessionLogBudget, now: () => number) {
    this.#logger = logger;
    this.#now = now;
    const rate = Math.max(budget.perMinute, 1) / 60;
    this.#general = new TokenBucket(rate, Math.max(budget.burst, 1), now());
    this.#security = new TokenBucket(rate, Math.max(budget.burst, 1), now());
  }

  /** Adds fields (the user name after the hello) to every later line. */
  bind(fields: Record<string, unknown>): void {
    this.#logger = this.#logger.child(fields);
  }

  /** Lines held back so far, ordinary and security. */
  get suppressed(): { general: number; security: number } {
    return { ...this.#suppressed };
  }

  get debugEnabled(): boolean {
    return this.#logger.isLevelEnabled('debug');
  }

  debug(fields: Fields, message?: string): void {
    if (this.debugEnabled && this.#allow(fields)) this.#logger.debug(fields, message);
  }

  info(fields: Fields, message?: string): void {
    if (this.#allow(fields)) this.#logger.info(fields, message);
  }

  warn(fields: Fields, message?: string): void {
    if (this.#allow(fields)) this.#logger.warn(fields, message);
  }

  error(fields: Fields, message?: string): void {
    if (this.#allow(fields)) this.#logger.error(fields, message);
  }

  #allow(fields: Fields): boolean {
    const event = fields.event;
    if (event !== undefined && ALWAYS.has(event)) return true;
    const security = event !== undefined && SECURITY_EVENTS.has(event);
    if ((security ? this.#security : this.#general).take(1, this.#now())) return true;
    this.#suppressed[security ? 'security' : 'general']++;
    return false;
  }
}
