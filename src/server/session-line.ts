import {
  asFatal,
  attachBody,
  type ClientFrame,
  decodeJsonLine,
  ErrorCode,
  ProtocolError,
  parseClientFrame,
  readCanonicalRelay,
  refOfLine,
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
 * a client of ours, so that error is fatal. `body` is the raw body that followed a binary
 * chunk header (`fputb`): joined to it here; a body after anything else (a header whose JSON
 * names another type twice) is fatal, a binary header without one is refused.
 */
export function readSessionLine(
  line: Uint8Array,
  state: 'awaiting-hello' | 'ready' | 'closed',
  body?: Uint8Array,
): LineReading {
  const relay = state === 'ready' && body === undefined ? readCanonicalRelay(line) : undefined;
  if (relay) return { kind: 'relay', relay };
  let raw: Record<string, unknown> | undefined;
  try {
    raw = decodeJsonLine(line);
    const frame = parseClientFrame(raw);
    if (frame.type === 'fput' || body !== undefined) {
      const joined = attachBody(frame as { sealed: Uint8Array; binary?: number }, body);
      if (typeof joined === 'string') {
        const error = new ProtocolError(ErrorCode.BAD_FIELD, joined, {
          fatal: body !== undefined,
        });
        return { kind: 'refused', error, ref: refOfLine(line) };
      }
    }
    return { kind: 'frame', frame, raw };
  } catch (error) {
    if (state !== 'awaiting-hello') return { kind: 'refused', error, ref: refOfLine(line) };
    if (raw?.type !== 'hello') return { kind: 'refused', error: asFatal(error), ref: undefined };
    return { kind: 'refused', error, ref: undefined };
  }
}
