/**
 * True when `error` says the shared store (Redis) cannot be reached right now — the
 * connection is down and commands fail at once instead of queueing — as opposed to a bug.
 * Sessions answer such failures with `E_BUSY` (try again) rather than `E_INTERNAL`.
 */
export function storeUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|LOADING/.test(
      error.message,
    )
  );
}
