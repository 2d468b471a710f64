/** A counter split by one label, as plain numbers (cheap on the hot path). */
export class LabeledCounter {
  readonly values = new Map<string, number>();

  inc(label: string, by = 1): void {
    this.values.set(label, (this.values.get(label) ?? 0) + by);
  }

  get(label: string): number {
    return this.values.get(label) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const value of this.values.values()) sum += value;
    return sum;
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
