import {
  asFatal,
  type ClientFrame,
  decodeJsonLine,
  idOfLine,
  parseClientFrame,
  readCanonicalRelay,
  type SplicedRelay,
} from '../protocol/index.js';

/** What one client line is, before the frame table sees it. */
export type LineReading =
  /** A relay in our canonical encoding after the hello: the fast path (issue 16). */
  | { kind: 'relay'; relay: SplicedRelay }
  | { kind: 'frame'; frame: ClientFrame; raw: Record<string, unknown> }
  /** Refused: `error` (fatal before the hello unless it was a malformed hello), `ref` for the error frame. */
  | { kind: 'refused'; error: unknown; ref: string | undefined };

/**
 * Reads one line of a session in `state`: the relay fast path once the session is ready,
 * else the full parser. Anything but a (possibly malformed) hello before the hello is not
 * a client of ours, so that error is fatal.
 */
export function readSessionLine(
  line: Uint8Array,
  state: 'awaiting-hello' | 'ready' | 'closed',
): LineReading {
  const relay = state === 'ready' ? readCanonicalRelay(line) : undefined;
  if (relay) return { kind: 'relay', relay };
  let raw: Record<string, unknown> | undefined;
  try {
    raw = decodeJsonLine(line);
    return { kind: 'frame', frame: parseClientFrame(raw), raw };
  } catch (error) {
    if (state !== 'awaiting-hello') return { kind: 'refused', error, ref: idOfLine(line) };
    if (raw?.type !== 'hello') return { kind: 'refused', error: asFatal(error), ref: undefined };
    return { kind: 'refused', error, ref: undefined };
  }
}
