import { ErrorCode, type RelayRoute } from '../../protocol/index.js';
import type { RelaySender, RouteOutcome } from '../router.js';

/**
 * How relays and their answers travel between nodes inside one stream entry. A relay is
 * encoded once, on the sender's node, as the delivery line its recipient will read; the
 * receiving node writes that line as it is (no JSON parse or encode of the relay there).
 *
 * A batch of relays is one item per relay, each `corr TAB deadline TAB sender TAB identity
 * TAB address TAB recipient TAB cipher length TAB delivery line`, the line ending the item
 * with its newline. Every field before the line is a validated name, key, address or
 * number (no tab, no newline), and the line is one JSON line. Answers are one per line:
 * `corr` alone for delivered, else `corr TAB outcome JSON`.
 */

/**
 * A relay forwarded by another node, read in place from its batch: who sent it is cut out
 * of the batch only when asked for (only storing for later needs it), and the numbers are
 * read without a string each.
 */
export class ForwardedRelay implements RelaySender {
  readonly corr: number;
  /** Epoch ms after which the sender's node has reported the relay failed. */
  readonly deadline: number;
  readonly to: string;
  readonly cipherBytes: number;
  /** The delivery line, newline included. */
  readonly line: string;
  readonly #batch: string;
  /** Where the sender, identity and address fields start, and where the address ends. */
  readonly #fields: number;
  constructor(batch: string, start: number, tabs: readonly number[], end: number) {
    const t1 = tabs[0] as number;
    const t2 = tabs[1] as number;
    const t5 = tabs[4] as number;
    const t6 = tabs[5] as number;
    const t7 = tabs[6] as number;
    this.corr = decimal(batch, start, t1);
    this.deadline = decimal(batch, t1 + 1, t2);
    this.to = batch.slice(t5 + 1, t6);
    this.cipherBytes = decimal(batch, t6 + 1, t7);
    this.line = batch.slice(t7 + 1, end + 1);
    this.#batch = batch;
    this.#fields = t2;
  }
  /** The sender (this relay itself: its fields are read on demand). */
  get from(): RelaySender {
    return this;
  }
  get name(): string {
    return this.#field(0);
  }
  get identityKey(): string | undefined {
    return this.#field(1) || undefined;
  }
  get addressKey(): string | undefined {
    return this.#field(2) || undefined;
  }
  /** Field `n` after the deadline (0: sender, 1: identity, 2: address). */
  #field(n: number): string {
    let start = this.#fields + 1;
    for (let i = 0; i < n; i++) start = this.#batch.indexOf('\t', start) + 1;
    return this.#batch.slice(start, this.#batch.indexOf('\t', start));
  }
}

/** The decimal number in `text[start, end)`: 0 when empty, NaN for anything but digits (as Number()). */
function decimal(text: string, start: number, end: number): number {
  let value = 0;
  for (let at = start; at < end; at++) {
    const digit = text.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) return Number(text.slice(start, end));
    value = value * 10 + digit;
  }
  return value;
}

/** One relay of a batch (see the module comment). */
export function packRelay(
  corr: number,
  deadline: number,
  from: RelaySender,
  relay: RelayRoute,
): string {
  const parts: Array<string | number> = [];
  appendRelay(parts, corr, deadline, from, relay);
  return parts.join('');
}

/** `TAB sender TAB identity TAB address TAB` of a session, made once per session. */
const senderFields = new WeakMap<RelaySender, string>();
let lastDeadline = 0;
let lastDeadlineText = '0';

/**
 * Appends one relay of a batch (the item of {@link packRelay}) to `parts`, to be joined
 * with the others at once: no string is built per field (a template literal of the eight
 * fields made some fifteen intermediate strings per relay). Relays of one turn share their
 * deadline's text, and a session's own fields are one string made once.
 */
export function appendRelay(
  parts: Array<string | number>,
  corr: number,
  deadline: number,
  from: RelaySender,
  relay: RelayRoute,
): void {
  let sender = senderFields.get(from);
  if (
    sender === undefined ||
    sender.charCodeAt(from.name.length + 1) !== 9 ||
    !sender.startsWith(from.name, 1)
  ) {
    sender = `\t${from.name}\t${from.identityKey ?? ''}\t${from.addressKey ?? ''}\t`;
    senderFields.set(from, sender);
  }
  if (deadline !== lastDeadline) {
    lastDeadline = deadline;
    lastDeadlineText = String(deadline);
  }
  parts.push(
    corr,
    '\t',
    lastDeadlineText,
    sender,
    relay.to,
    '\t',
    relay.cipherLength,
    '\t',
    relay.deliveryLine(from.name),
  );
}

/** The numbers of the relays in a batch of {@link packRelay} items (each starts with it). */
export function relayCorrs(batch: string): number[] {
  const corrs: number[] = [];
  let start = 0;
  while (start < batch.length) {
    const tab = batch.indexOf('\t', start);
    if (tab === -1) break;
    corrs.push(Number(batch.slice(start, tab)));
    const end = batch.indexOf('\n', tab);
    if (end === -1) break;
    start = end + 1;
  }
  return corrs;
}

/** The relays of a batch; a damaged item throws (the whole entry is refused). */
export function unpackRelays(batch: string): ForwardedRelay[] {
  const relays: ForwardedRelay[] = [];
  const tabs = [0, 0, 0, 0, 0, 0, 0];
  let start = 0;
  while (start < batch.length) {
    const end = batch.indexOf('\n', start);
    if (end === -1) throw new Error('relay batch: unterminated item');
    // The seven fields before the line, each up to its tab (none may run past the item).
    let at = start;
    for (let i = 0; i < 7; i++) {
      at = fieldEnd(batch, at, end);
      tabs[i] = at++;
    }
    relays.push(new ForwardedRelay(batch, start, tabs, end));
    start = end + 1;
  }
  return relays;
}

/** The tab ending the field that starts at `at`, within the item ending at `end`. */
function fieldEnd(batch: string, at: number, end: number): number {
  const tab = batch.indexOf('\t', at);
  if (tab === -1 || tab > end) throw new Error('relay batch: missing field');
  return tab;
}

/**
 * Answers to relays of one origin node (see the module comment), in the order of
 * `corrs` (`outcomes[i]` answers `corrs[i]`).
 */
export function packReplies(
  corrs: ReadonlyArray<number | string>,
  outcomes: ReadonlyArray<RouteOutcome | Promise<RouteOutcome>>,
): string {
  let out = '';
  for (let i = 0; i < corrs.length; i++) {
    const outcome = outcomes[i] as RouteOutcome;
    out +=
      outcome.kind === 'delivered' ? `${corrs[i]}\n` : `${corrs[i]}\t${JSON.stringify(outcome)}\n`;
  }
  return out;
}

const DELIVERED: RouteOutcome = { kind: 'delivered' };

/**
 * Reads the answers of {@link packReplies} in order, each to `answer`. The sending node
 * numbers its relays in decimal: a `corr` of anything but digits answers nothing.
 */
export function readReplies(
  text: string,
  answer: (corr: number, outcome: RouteOutcome) => void,
): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let corr = 0;
    let at = start;
    for (; at < end; at++) {
      const digit = text.charCodeAt(at) - 48;
      if (digit < 0 || digit > 9) break;
      corr = corr * 10 + digit;
    }
    const tab = at < end && text.charCodeAt(at) === 9;
    // Digits (at most 15: an exact integer), then the end of the line or a tab; anything
    // else is not one of ours and answers nothing.
    if (at > start && at - start <= 15 && (tab || at === end))
      answer(corr, tab ? (JSON.parse(text.slice(at + 1, end)) as RouteOutcome) : DELIVERED);
    start = end + 1;
  }
}

/** The sender's node got no answer in time. */
export function unconfirmed(text: string): RouteOutcome {
  return { kind: 'failed', code: ErrorCode.PEER_OFFLINE, text, reason: 'cross_node_timeout' };
}

/** Redis (or the other node) could not be reached. */
export function unavailable(): RouteOutcome {
  return {
    kind: 'failed',
    code: ErrorCode.BUSY,
    text: 'the cluster is unreachable right now: message not delivered, try again',
    reason: 'cluster_unavailable',
  };
}

/** The value of `name` in a stream entry's flat field list, if present. */
export function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
