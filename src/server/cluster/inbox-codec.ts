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

/** A relay forwarded by another node, as read from its batch. */
export interface ForwardedRelay {
  corr: string;
  /** Epoch ms after which the sender's node has reported the relay failed. */
  deadline: number;
  from: RelaySender;
  to: string;
  cipherBytes: number;
  /** The delivery line, newline included. */
  line: string;
}

const RELAY_FIELDS = 7;

/** One relay of a batch (see the module comment). */
export function packRelay(
  corr: string,
  deadline: number,
  from: RelaySender,
  relay: RelayRoute,
): string {
  return `${corr}\t${deadline}\t${from.name}\t${from.identityKey ?? ''}\t${from.addressKey ?? ''}\t${relay.to}\t${relay.cipherLength}\t${relay.deliveryLine(from.name)}`;
}

/** The relays of a batch; a damaged item throws (the whole entry is refused). */
export function unpackRelays(batch: string): ForwardedRelay[] {
  const relays: ForwardedRelay[] = [];
  let start = 0;
  while (start < batch.length) {
    const end = batch.indexOf('\n', start);
    if (end === -1) throw new Error('relay batch: unterminated item');
    const fields: string[] = [];
    let at = start;
    for (let i = 0; i < RELAY_FIELDS; i++) {
      const tab = batch.indexOf('\t', at);
      if (tab === -1 || tab > end) throw new Error('relay batch: missing field');
      fields.push(batch.slice(at, tab));
      at = tab + 1;
    }
    const [corr, deadline, name, identityKey, addressKey, to, cipherBytes] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    relays.push({
      corr,
      deadline: Number(deadline),
      from: {
        name,
        identityKey: identityKey === '' ? undefined : identityKey,
        addressKey: addressKey === '' ? undefined : addressKey,
      },
      to,
      cipherBytes: Number(cipherBytes),
      line: batch.slice(at, end + 1),
    });
    start = end + 1;
  }
  return relays;
}

/** Answers to relays of one origin node (see the module comment). */
export function packReplies(answers: ReadonlyArray<readonly [string, RouteOutcome]>): string {
  let out = '';
  for (const [corr, outcome] of answers)
    out += outcome.kind === 'delivered' ? `${corr}\n` : `${corr}\t${JSON.stringify(outcome)}\n`;
  return out;
}

const DELIVERED: RouteOutcome = { kind: 'delivered' };

/** The answers of {@link packReplies}. */
export function unpackReplies(text: string): Array<[string, RouteOutcome]> {
  const answers: Array<[string, RouteOutcome]> = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    if (tab === -1) answers.push([line, DELIVERED]);
    else answers.push([line.slice(0, tab), JSON.parse(line.slice(tab + 1)) as RouteOutcome]);
  }
  return answers;
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
