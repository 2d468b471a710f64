/** Labels a counter keeps apart before it folds its pending tallies into the map. */
const PENDING_LABELS = 8;

/**
 * A counter split by one label, as plain numbers (cheap on the hot path). {@link tally} is
 * the per-frame path: it adds one to a short list of pending labels (compared by identity
 * first: the hot labels are literals) instead of a Map read and write per frame; the list
 * is folded into the map whenever the counter is read, so every reader sees exact counts.
 */
export class LabeledCounter {
  readonly #values = new Map<string, number>();
  #labels: string[] = [];
  #counts: number[] = [];

  /** Counts by label, pending tallies included. */
  get values(): ReadonlyMap<string, number> {
    this.#settle();
    return this.#values;
  }

  inc(label: string, by = 1): void {
    this.#values.set(label, (this.#values.get(label) ?? 0) + by);
  }

  /** Adds one to `label` (the same as `inc(label)`, batched until the next read). */
  tally(label: string): void {
    const labels = this.#labels;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === label) {
        this.#counts[i]!++;
        return;
      }
    }
    if (labels.length >= PENDING_LABELS) this.#settle();
    this.#labels.push(label);
    this.#counts.push(1);
  }

  get(label: string): number {
    return this.values.get(label) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const value of this.values.values()) sum += value;
    return sum;
  }

  #settle(): void {
    const labels = this.#labels;
    if (labels.length === 0) return;
    const counts = this.#counts;
    for (let i = 0; i < labels.length; i++) this.inc(labels[i]!, counts[i]!);
    this.#labels = [];
    this.#counts = [];
  }
}

/**
 * Everything the server counts. Sessions bump plain numbers; the Prometheus exporter
 * (metrics.ts) reads them at scrape time, so metrics cost nothing per message beyond an
 * increment.
 */
export class ServerStats {
  connectionsTotal = 0;
  connectionsRefused = new LabeledCounter();
  connectionsClosed = new LabeledCounter();
  helloAccepted = new LabeledCounter();
  helloRefused = new LabeledCounter();
  framesIn = new LabeledCounter();
  framesOut = new LabeledCounter();
  bytesIn = 0;
  bytesOut = 0;
  frameRejected = new LabeledCounter();
  relayDelivered = 0;
  relayStored = 0;
  /** Relays sent to another node of a cluster (their recipient is connected there). */
  relayForwarded = 0;
  roomMessages = 0;
  roomDeliveries = 0;
  mailboxDelivered = 0;
  relayFailed = new LabeledCounter();
  relayBytes = 0;
  tlsRejected = new LabeledCounter();
  tlsAccepted = new LabeledCounter();
  rateLimited = new LabeledCounter();
  securityEvents = new LabeledCounter();
  /** Peer traffic not queued for a client whose queue was full, by frame kind. */
  copiesDropped = new LabeledCounter();
  /** Handler errors answered with E_INTERNAL (and process-level errors), by where. */
  internalErrors = new LabeledCounter();
  /** Refused name registrations, room creations and stored messages, by quota. */
  quotaRefused = new LabeledCounter();
  /** Bytes read from connections after a fatal refusal, before they closed. */
  bytesAfterRefusal = 0;
  /** Mailbox pages sent. */
  mailboxPages = 0;
}
