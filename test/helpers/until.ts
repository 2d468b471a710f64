/**
 * Polls `condition` every 10 ms until it holds, at most `timeoutMs` (bounded), and returns
 * whether it held. For things a test cannot get a frame for (a log line, a socket closing,
 * a counter): wait for the condition itself, never for a fixed time.
 */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
