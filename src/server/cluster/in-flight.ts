import type { RelayRoute } from '../../protocol/index.js';
import type { Answered, RouteOutcome } from '../router.js';

/**
 * The relays this node forwarded to other nodes and not yet answered, by their number
 * (`corr`, in the order sent, which is deadline order: they share one timeout). Each is
 * answered exactly once: by its node's reply, at its deadline, or when the node stops.
 *
 * A ring of parallel arrays indexed by number (`corr & mask`) over the numbers from the
 * oldest unanswered one to the last given: no object and no hash-table entry per relay
 * (a Map of Waiting objects was a third of what a forwarded relay allocated on its node).
 * The ring doubles when the numbers in between outgrow it; one relay waiting for its
 * deadline keeps the numbers after it in the ring until then.
 */
export class InFlight {
  #answered: Array<Answered<unknown> | undefined> = new Array(256).fill(undefined);
  #context: unknown[] = new Array(256).fill(undefined);
  #relay: Array<RelayRoute | undefined> = new Array(256).fill(undefined);
  #deadline = new Float64Array(256);
  #mask = 255;
  /** The oldest number that may still be waiting (all before it are answered). */
  #oldest = 1;
  /** The last number given. */
  #next = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Registers a relay; returns its number for the stream entry. */
  add<C>(answered: Answered<C>, context: C, relay: RelayRoute, deadline: number): number {
    const corr = ++this.#next;
    if (corr - this.#oldest > this.#mask) this.#grow();
    const at = corr & this.#mask;
    this.#answered[at] = answered as Answered<unknown>;
    this.#context[at] = context;
    this.#relay[at] = relay;
    this.#deadline[at] = deadline;
    this.#size++;
    return corr;
  }

  /** Answers relay `corr`; false when it was answered already (or never sent from here). */
  answer(corr: number, outcome: RouteOutcome): boolean {
    if (corr < this.#oldest || corr > this.#next) return false;
    const at = corr & this.#mask;
    const answered = this.#answered[at];
    if (answered === undefined) return false;
    const context = this.#context[at];
    const relay = this.#relay[at] as RelayRoute;
    this.#clear(at);
    if (corr === this.#oldest) this.#advance();
    answered(context, relay, outcome);
    return true;
  }

  /** Answers every relay whose deadline is not after `now` with `outcome(to)`; how many. */
  expire(now: number, outcome: (to: string) => RouteOutcome): number {
    let expired = 0;
    for (let corr = this.#oldest; corr <= this.#next; corr++) {
      const at = corr & this.#mask;
      const answered = this.#answered[at];
      if (answered === undefined) continue;
      if ((this.#deadline[at] as number) > now) break;
      const context = this.#context[at];
      const relay = this.#relay[at] as RelayRoute;
      this.#clear(at);
      expired++;
      answered(context, relay, outcome(relay.to));
    }
    this.#advance();
    return expired;
  }

  /** Answers every relay still waiting with `outcome` (the node stops). */
  answerAll(outcome: RouteOutcome): void {
    const pending: Array<[Answered<unknown>, unknown, RelayRoute]> = [];
    for (let corr = this.#oldest; corr <= this.#next; corr++) {
      const at = corr & this.#mask;
      const answered = this.#answered[at];
      if (answered === undefined) continue;
      pending.push([answered, this.#context[at], this.#relay[at] as RelayRoute]);
      this.#clear(at);
    }
    this.#oldest = this.#next + 1;
    for (const [answered, context, relay] of pending) answered(context, relay, outcome);
  }

  #clear(at: number): void {
    this.#answered[at] = undefined;
    this.#context[at] = undefined;
    this.#relay[at] = undefined;
    this.#size--;
  }

  /** Moves `#oldest` past the numbers answered already. */
  #advance(): void {
    while (this.#oldest <= this.#next && this.#answered[this.#oldest & this.#mask] === undefined)
      this.#oldest++;
  }

  /** Doubles the ring, each waiting relay at its place in the bigger one. */
  #grow(): void {
    const size = (this.#mask + 1) * 2;
    const mask = size - 1;
    const answered: Array<Answered<unknown> | undefined> = new Array(size).fill(undefined);
    const context: unknown[] = new Array(size).fill(undefined);
    const relay: Array<RelayRoute | undefined> = new Array(size).fill(undefined);
    const deadline = new Float64Array(size);
    for (let corr = this.#oldest; corr < this.#next; corr++) {
      const from = corr & this.#mask;
      const to = corr & mask;
      answered[to] = this.#answered[from];
      context[to] = this.#context[from];
      relay[to] = this.#relay[from];
      deadline[to] = this.#deadline[from] as number;
    }
    this.#answered = answered;
    this.#context = context;
    this.#relay = relay;
    this.#deadline = deadline;
    this.#mask = mask;
  }
}
