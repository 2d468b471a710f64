import { systemTimers, type Timer, type Timers } from '../clock.js';

export interface HeartbeatPolicy {
  /** Send a ping after this long without sending or receiving anything. */
  intervalMs: number;
  /** Give the connection up when nothing at all arrives this long after a ping. */
  timeoutMs: number;
}

/**
 * Pings well inside the server's idle timeout (5 min by default) and notices a half-open
 * connection (a NAT or ngrok dropped it without FIN or RST) within interval + timeout.
 */
export const DEFAULT_HEARTBEAT: HeartbeatPolicy = { intervalMs: 60_000, timeoutMs: 20_000 };

export interface HeartbeatHooks {
  sendPing(): void;
  /** The peer stopped answering: the caller drops the connection (and reconnects). */
  dead(reason: string): void;
  now?: () => number;
  timers?: Timers;
}

/**
 * Keepalive for one connection. Any received byte proves the link alive (pongs, relays,
 * presence); outgoing traffic resets the interval too, because it already resets the
 * server's idle timer. Its timer never holds the process open.
 */
export class Heartbeat {
  readonly policy: HeartbeatPolicy;
  #hooks: HeartbeatHooks;
  #now: () => number;
  #lastSent: number;
  #lastReceived: number;
  #pingSentAt: number | undefined;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(policy: HeartbeatPolicy, hooks: HeartbeatHooks) {
    if (!(policy.intervalMs > 0) || !(policy.timeoutMs > 0))
      throw new RangeError('heartbeat interval and timeout must be positive');
    this.policy = policy;
    this.#hooks = hooks;
    this.#now = hooks.now ?? Date.now;
    this.#lastSent = this.#lastReceived = this.#now();
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts the timer; a heartbeat is for one connection and cannot restart once stopped. */
  start(): void {
    if (this.#timer || this.#stopped) return;
    const tick = Math.max(
      10,
      Math.floor(Math.min(this.policy.intervalMs, this.policy.timeoutMs) / 4),
    );
    this.#timer = (this.#hooks.timers ?? systemTimers).every(tick, () => this.check());
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#pingSentAt = undefined;
  }

  received(): void {
    this.#lastReceived = this.#now();
    this.#pingSentAt = undefined;
  }

  sent(): void {
    this.#lastSent = this.#now();
  }

  /** One step of the timer (public for tests with a fake clock). */
  check(): void {
    if (this.#stopped) return;
    const now = this.#now();
    if (this.#pingSentAt !== undefined) {
      if (now - this.#pingSentAt >= this.policy.timeoutMs) {
        const waited = Math.round((now - this.#pingSentAt) / 1000);
        this.stop();
        this.#hooks.dead(`the server did not answer a ping for ${waited} s`);
      }
      return;
    }
    const quiet = now - Math.min(this.#lastSent, this.#lastReceived);
    if (quiet >= this.policy.intervalMs) {
      this.#pingSentAt = now;
      this.#lastSent = now;
      this.#hooks.sendPing();
    }
  }
}
