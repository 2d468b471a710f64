/**
 * Delivery as a compact suffix on the message line (`✓` sent, `✓✓` delivered, `⌛` stored
 * for an offline friend, `✗` failed with the reason), instead of a line per status. The
 * terminal rewrites the message's line in place while it is still on screen
 * (terminal.ts); otherwise, and for piped output, one short line says it.
 */
import type { DeliveryEvent } from '../events.js';
import { sanitizeText } from './sanitize.js';
import type { Styles } from './theme.js';

/** The suffix for a status: glyph first, words where the glyph alone is unclear. */
export function deliveryMark(status: DeliveryEvent['status'], reason?: string): string {
  switch (status) {
    case 'sent':
      return '\u2713';
    case 'delivered':
      // A stored message fetched later: the server's report, labelled as such.
      return reason ? `\u2713\u2713 ${sanitizeText(reason, { maxLength: 200 })}` : '\u2713\u2713';
    case 'stored':
      return '\u231B stored';
    case 'queued':
      return '\u2026 queued';
    case 'failed':
      return `\u2717 failed${reason ? `: ${sanitizeText(reason, { maxLength: 200 })}` : ''}`;
    default:
      return '?';
  }
}

/** The suffix coloured: failures in the error colour, the rest dim. */
export function styledMark(s: Styles, status: DeliveryEvent['status'], reason?: string): string {
  const mark = deliveryMark(status, reason);
  return status === 'failed' ? s.error(mark) : s.dim(mark);
}

/** What the terminal remembers of a message it showed, to mark it later. */
export interface ShownMessage {
  /** Row (counted from the first printed) of the message's last line. */
  row: number;
  /** The last line as first printed, without a mark. */
  line: string;
  /** Its visible width. */
  width: number;
}

/** Bounded memory of the last messages shown (oldest forgotten first). */
export class ShownMessages {
  #byId = new Map<string, ShownMessage>();
  readonly #max: number;

  constructor(max = 200) {
    this.#max = max;
  }

  remember(id: string, shown: ShownMessage): void {
    this.#byId.delete(id);
    this.#byId.set(id, shown);
    if (this.#byId.size > this.#max) this.#byId.delete(this.#byId.keys().next().value!);
  }

  get(id: string): ShownMessage | undefined {
    return this.#byId.get(id);
  }

  /** After /clear or a resize nothing on screen is where it was. */
  forgetAll(): void {
    this.#byId.clear();
  }
}
