import type { ClientEvent } from '../events.js';

/**
 * The local WebSocket between the browser page (src/web/) and the client core. Events are
 * exactly the `--json` event shapes (events.ts); commands are the lines `--json` reads on
 * stdin. The page holds no key: it asks, the core decides.
 */

/** Page → core. */
export type PageMessage =
  /** A command or message line, as typed at the terminal (`/to bob hi`, `/join #r pw`). */
  | { type: 'line'; text: string }
  /** The safety number with a user, for the verification view. */
  | { type: 'safety'; user: string };

/** Core → page. */
export type CoreMessage =
  /** `maxUpload`: the largest file the page may upload to send (absent: no uploads). */
  | { type: 'hello'; self: string; identity?: string; maxUpload?: number }
  /** Events kept since the page last looked (a reload, a reconnect): shown, not notified. */
  | { type: 'replay'; events: ClientEvent[] }
  | { type: 'event'; event: ClientEvent }
  | {
      type: 'safety';
      user: string;
      digits?: string;
      reason?: string;
    }
  | { type: 'clear' }
  | { type: 'bye'; reason: string };

/** Bounds on what the page may send (the socket's own cap is {@link MAX_PAGE_MESSAGE_BYTES}). */
export const MAX_PAGE_MESSAGE_BYTES = 64 * 1024;
const MAX_USER_CHARS = 64;

/**
 * Reads one page message from its JSON text, fresh object only (no prototype keys copied),
 * or undefined when it is not one we understand.
 */
export function readPageMessage(raw: string): PageMessage | undefined {
  if (raw.length > MAX_PAGE_MESSAGE_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  if (record.type === 'line' && typeof record.text === 'string')
    return { type: 'line', text: record.text };
  if (
    record.type === 'safety' &&
    typeof record.user === 'string' &&
    record.user.length <= MAX_USER_CHARS
  )
    return { type: 'safety', user: record.user };
  return undefined;
}
