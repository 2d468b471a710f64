import { ErrorCode, encodeError } from '../protocol/index.js';
import type { SessionLog } from './session-log.js';
import type { ServerStats } from './stats.js';
import { storeUnavailable } from './store/unavailable.js';

/** What answering a failed handler needs of its session. */
export interface FailingSession {
  readonly log: SessionLog;
  /** False once the session is closed (nothing is answered then). */
  readonly open: boolean;
  reply(line: string, kind: string): boolean;
}

/**
 * Counts, logs and answers a handler that failed: `E_BUSY` when the cluster's shared store
 * is unreachable (what needs shared state is refused, clearly), else `E_INTERNAL` with the
 * error logged. Returns true when it was an internal error (a session still waiting for its
 * hello is then closed by its caller).
 */
export function answerFailure(
  session: FailingSession,
  stats: ServerStats,
  error: unknown,
  ref: string | undefined,
): boolean {
  if (storeUnavailable(error)) {
    stats.internalErrors.inc('store_unavailable');
    session.log.warn({ event: 'store.unavailable', err: (error as Error).message });
    if (session.open) {
      const text = 'shared state is unreachable right now; try again shortly';
      session.reply(encodeError(ErrorCode.BUSY, text, ref), 'error');
    }
    return false;
  }
  stats.internalErrors.inc('session');
  session.log.error({ event: 'internal_error', err: error }, 'a handler failed');
  if (!session.open) return false;
  session.reply(
    encodeError(ErrorCode.INTERNAL, 'internal error (logged); try again', ref),
    'error',
  );
  return true;
}

/**
 * A refused connection is gone: how much it still sent after the refusal, and for how long
 * (a refused client must not keep the server reading; docs/SECURITY.md).
 */
export function reportReleased(
  log: SessionLog,
  stats: ServerStats,
  refusal: { at: number; bytesRead: number },
  bytesRead: number,
  now: number,
): void {
  const readAfterRefusal = bytesRead - refusal.bytesRead;
  stats.bytesAfterRefusal += readAfterRefusal;
  log.info({ event: 'connection.released', readAfterRefusal, msAfterRefusal: now - refusal.at });
}
