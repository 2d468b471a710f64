import type { DeliveryStatus, EventSink } from '../events.js';

/** A message the user asked to send, tracked until delivered or failed. */
export interface Outgoing {
  id: string;
  to: string;
  text: string;
  action: boolean;
  /** When it was typed (sent inside the encryption, shown by an offline recipient). */
  at?: number;
}

/** Stored messages remembered for the fetched notice. */
const MAX_STORED = 1000;
/** The reason a stored message counts as delivered: the server's word, shown as such. */
export const FETCHED_REASON = 'fetched, says the server';

/**
 * Tracks every outgoing message so none is lost silently: queued while disconnected
 * (bounded), sent, delivered (server ack) or failed with a reason.
 */
export class DeliveryTracker {
  #outbox: Outgoing[] = [];
  #unacked = new Map<string, Outgoing>();
  /** Messages the server stored for an offline recipient, until it says they were fetched. */
  #stored = new Map<string, Outgoing>();
  #sink: EventSink;
  readonly maxQueued: number;
  /** True once the server has acked anything: then unacked messages can be declared lost. */
  serverAcks = false;

  constructor(sink: EventSink, maxQueued: number) {
    this.#sink = sink;
    this.maxQueued = maxQueued;
  }

  get queued(): number {
    return this.#outbox.length;
  }

  get unacknowledged(): number {
    return this.serverAcks ? this.#unacked.size : 0;
  }

  report(message: Outgoing, status: DeliveryStatus, reason?: string): void {
    this.#sink.event({
      kind: 'delivery',
      id: message.id,
      to: message.to,
      status,
      ...(reason === undefined ? {} : { reason }),
    });
  }

  /** Queues while disconnected; false when the queue is full. */
  /** Whether another message can wait for the connection. */
  get canQueue(): boolean {
    return this.#outbox.length < this.maxQueued;
  }

  enqueue(message: Outgoing): boolean {
    if (this.#outbox.length >= this.maxQueued) return false;
    this.#outbox.push(message);
    this.report(message, 'queued', 'not connected; will send after reconnecting');
    return true;
  }

  /** Takes every queued message (to send after a welcome). */
  drain(): Outgoing[] {
    const queued = this.#outbox;
    this.#outbox = [];
    return queued;
  }

  sent(message: Outgoing): void {
    this.#unacked.set(message.id, message);
    this.report(message, 'sent');
  }

  /** Server ack (`stored`: kept for an offline recipient): returns the message when it was ours. */
  acked(id: string, stored = false): Outgoing | undefined {
    this.serverAcks = true;
    const message = this.#unacked.get(id);
    if (message) {
      this.#unacked.delete(id);
      if (stored) {
        this.#stored.set(message.id, message);
        if (this.#stored.size > MAX_STORED) this.#stored.delete(this.#stored.keys().next().value!);
        this.report(
          message,
          'stored',
          `${message.to} is offline; the server keeps it until they connect`,
        );
      } else {
        this.report(message, 'delivered');
      }
    }
    return message;
  }

  /** The server reports that the recipient fetched a stored message: delivered. */
  fetched(id: string): void {
    const message = this.#stored.get(id);
    if (!message) return;
    this.#stored.delete(id);
    this.report(message, 'delivered', FETCHED_REASON);
  }

  /** Server error with `ref`: returns true when it concerned one of our messages. */
  refused(id: string, reason: string): boolean {
    const message = this.#unacked.get(id);
    if (!message) return false;
    this.#unacked.delete(id);
    this.report(message, 'failed', reason);
    return true;
  }

  /** The connection dropped: messages the server never confirmed are reported failed. */
  connectionLost(): void {
    if (this.serverAcks) {
      for (const message of this.#unacked.values()) {
        this.report(message, 'failed', 'connection lost before the server confirmed delivery');
      }
    }
    this.#unacked.clear();
  }

  /** The client is closing for good: everything still queued failed. */
  closed(reason: string): void {
    for (const message of this.drain()) this.report(message, 'failed', reason);
  }
}
