import type { Timer, Timers } from '../clock.js';

/**
 * A transfer's control line: no chunk in it, so the server counts it under its chat limit.
 * `fstat`, `fdone` and `fdel` name their file; an announce (`fnew`) its message id.
 */
export type ControlFrame =
  | { type: 'fstat' | 'fdone' | 'fdel'; file: string; cap?: string }
  | { type: 'fnew'; id: string; [field: string]: unknown };

/** What the server's refusal names in `ref` for `frame`. */
const refOf = (frame: ControlFrame): string => (frame.type === 'fnew' ? frame.id : frame.file);

/** First wait before sending a dropped control line again (then 2×, 3× …). */
export const CONTROL_RETRY_MS = 1500;
/** Sends of one control line after the first, at most. */
export const CONTROL_TRIES = 4;
/** How long a control line is remembered for a refusal naming its file. */
const KEEP_MS = 30_000;

const CONTROL = new Set(['fstat', 'fdone', 'fdel']);

export function isControlFrame(frame: unknown): frame is ControlFrame {
  if (typeof frame !== 'object' || frame === null) return false;
  const f = frame as { type?: unknown; file?: unknown; id?: unknown };
  if (f.type === 'fnew') return typeof f.id === 'string';
  return CONTROL.has(f.type as string) && typeof f.file === 'string';
}

interface Sent {
  frame: ControlFrame;
  at: number;
  tries: number;
  timer?: Timer;
}

/**
 * The control lines of our transfers (`fnew`, `fstat`, `fdone`, `fdel`), remembered a while
 * per file (per announce id for `fnew`) so that one the server drops under its chat rate
 * limit (`E_RATE_LIMITED` naming it) goes again later instead of being lost: a dropped
 * announce failed its upload, an unanswered `fstat` left an upload waiting for good, a lost
 * `fdone` or `fdel` leaves the file on the server until it expires. Chunk lines are paced
 * by the server, never dropped, and are not kept here.
 */
export class ControlResend {
  #sent = new Map<string, Sent>();
  #send: (frame: ControlFrame) => void;
  #timers: Timers;
  #now: () => number;

  constructor(send: (frame: ControlFrame) => void, timers: Timers, now: () => number) {
    this.#send = send;
    this.#timers = timers;
    this.#now = now;
  }

  /** `frame` was sent (the latest control line for its file replaces the one before). */
  sent(frame: ControlFrame): void {
    const now = this.#now();
    const ref = refOf(frame);
    this.#forget(ref);
    for (const [file, entry] of this.#sent) {
      if (entry.at >= now - KEEP_MS) break; // (in the order sent: the rest is newer)
      this.#forget(file);
    }
    this.#sent.set(ref, { frame, at: now, tries: 0 });
  }

  /** The server answered for `ref` (`fok` for an announce, `fstate`): nothing to send again. */
  answered(ref: string): void {
    this.#forget(ref);
  }

  /**
   * The server dropped a line naming `file` under its rate limit: undefined when no control
   * line of ours for it is remembered, 'again' when it goes again later, 'gave-up' after
   * {@link CONTROL_TRIES} more sends (the caller says so where it matters).
   */
  refused(file: string): 'again' | 'gave-up' | undefined {
    const entry = this.#sent.get(file);
    if (!entry) return undefined;
    if (entry.timer) return 'again'; // (a refusal of a line already sent again)
    if (entry.tries >= CONTROL_TRIES) {
      this.#forget(file);
      return 'gave-up';
    }
    entry.tries++;
    entry.timer = this.#timers.after(CONTROL_RETRY_MS * entry.tries, () => {
      delete entry.timer;
      if (this.#sent.get(file) !== entry) return;
      entry.at = this.#now();
      this.#send(entry.frame);
    });
    return 'again';
  }

  /** The connection went down: the next session asks afresh (uploads send `fstat` again). */
  clear(): void {
    for (const file of [...this.#sent.keys()]) this.#forget(file);
  }

  #forget(file: string): void {
    this.#sent.get(file)?.timer?.cancel();
    this.#sent.delete(file);
  }
}
