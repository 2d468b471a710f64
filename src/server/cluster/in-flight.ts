import type { RelayRoute } from '../../protocol/index.js';
import type { Answered, RouteOutcome } from '../router.js';

/** A relay waiting for its answer from another node: one object per relay in flight. */
class Waiting {
  readonly answered: Answered<unknown>;
  readonly context: unknown;
  readonly relay: RelayRoute;
  readonly deadline: number;
  constructor(answered: Answered<unknown>, context: unknown, relay: RelayRoute, deadline: number) {
    this.answered = answered;
    this.context = context;
    this.relay = relay;
    this.deadline = deadline;
  }
}

/**
 * The relays this node forwarded to other nodes and not yet answered, by their number
 * (`corr`, in the order sent, which is deadline order: they share one timeout). Each is
 * answered exactly once: by its node's reply, at its deadline, or when the node stops.
 */
export class InFlight {
  #pending = new Map<number, Waiting>();
  #next = 0;

  get size(): number {
    return this.#pending.size;
  }

  /** Registers a relay; returns its number for the stream entry. */
  add<C>(answered: Answered<C>, context: C, relay: RelayRoute, deadline: number): number {
    const corr = ++this.#next;
    this.#pending.set(corr, new Waiting(answered as Answered<unknown>, context, relay, deadline));
    return corr;
  }

  /** Answers relay `corr`; false when it was answered already (or never sent from here). */
  answer(corr: number, outcome: RouteOutcome): boolean {
    const waiting = this.#pending.get(corr);
    if (!waiting) return false;
    this.#pending.delete(corr);
    waiting.answered(waiting.context, waiting.relay, outcome);
    return true;
  }

  /** Answers every relay whose deadline is not after `now` with `outcome(to)`; how many. */
  expire(now: number, outcome: (to: string) => RouteOutcome): number {
    let expired = 0;
    for (const [corr, waiting] of this.#pending) {
      if (waiting.deadline > now) break;
      this.#pending.delete(corr);
      expired++;
      waiting.answered(waiting.context, waiting.relay, outcome(waiting.relay.to));
    }
    return expired;
  }

  /** Answers every relay still waiting with `outcome` (the node stops). */
  answerAll(outcome: RouteOutcome): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const waiting of pending) waiting.answered(waiting.context, waiting.relay, outcome);
  }
}
