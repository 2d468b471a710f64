import { describe, expect, it } from 'vitest';
import type { RelayRoute } from '../../../src/protocol/index.js';
import { InFlight } from '../../../src/server/cluster/in-flight.js';
import type { RouteOutcome } from '../../../src/server/router.js';

/** The cross-node relays a node waits on (issue 17): each answered exactly once. */
const relay = (to: string) =>
  ({ to, id: to, cipherLength: 1, deliveryLine: () => '' }) as RelayRoute;
const DELIVERED: RouteOutcome = { kind: 'delivered' };
const failed = (to: string): RouteOutcome => ({
  kind: 'failed',
  code: 'E_PEER_OFFLINE',
  text: `${to} late`,
  reason: 'cross_node_timeout',
});

function tracker() {
  const log: Array<[string, string, string]> = [];
  const inFlight = new InFlight();
  const send = (to: string, deadline: number) =>
    inFlight.add(
      (tag: string, r, outcome) => log.push([tag, r.to, outcome.kind]),
      'ctx',
      relay(to),
      deadline,
    );
  return { log, inFlight, send };
}

describe('InFlight', () => {
  it('answers each relay once, by number, with its context and relay', () => {
    const { log, inFlight, send } = tracker();
    const a = send('a', 100);
    const b = send('b', 100);
    expect(inFlight.size).toBe(2);
    expect(inFlight.answer(b, DELIVERED)).toBe(true);
    expect(inFlight.answer(b, DELIVERED)).toBe(false);
    expect(inFlight.answer(b + 1, DELIVERED)).toBe(false); // never given
    expect(inFlight.answer(0, DELIVERED)).toBe(false);
    expect(inFlight.answer(a, DELIVERED)).toBe(true);
    expect(log).toEqual([
      ['ctx', 'b', 'delivered'],
      ['ctx', 'a', 'delivered'],
    ]);
    expect(inFlight.size).toBe(0);
  });

  it('expires the oldest up to now, skipping those answered, and no later ones', () => {
    const { log, inFlight, send } = tracker();
    const corrs = [10, 20, 30, 40].map((deadline, i) => send(`r${i}`, deadline));
    inFlight.answer(corrs[1] as number, DELIVERED);
    expect(inFlight.expire(30, failed)).toBe(2);
    expect(log.map(([, to, kind]) => `${to}:${kind}`)).toEqual([
      'r1:delivered',
      'r0:failed',
      'r2:failed',
    ]);
    expect(inFlight.answer(corrs[0] as number, DELIVERED)).toBe(false); // answered at its deadline
    expect(inFlight.size).toBe(1);
    expect(inFlight.answer(corrs[3] as number, DELIVERED)).toBe(true);
  });

  it('keeps thousands waiting behind one unanswered relay, each answered once', () => {
    const { log, inFlight, send } = tracker();
    const stuck = send('stuck', 1);
    const others: number[] = [];
    for (let i = 0; i < 3000; i++) {
      others.push(send(`o${i}`, 1000 + i));
      // answered out of order, some at once
      if (i % 3 === 0) expect(inFlight.answer(others[i] as number, DELIVERED)).toBe(true);
    }
    expect(inFlight.size).toBe(1 + 2000);
    for (const corr of others) inFlight.answer(corr, DELIVERED);
    expect(inFlight.size).toBe(1);
    expect(inFlight.expire(5, failed)).toBe(1);
    expect(inFlight.answer(stuck, DELIVERED)).toBe(false);
    expect(log).toHaveLength(3001);
    expect(new Set(log.map(([, to]) => to)).size).toBe(3001);
    expect(log.at(-1)).toEqual(['ctx', 'stuck', 'failed']);
    // and numbering goes on in the ring as it is
    const next = send('next', 2000);
    expect(inFlight.answer(next, DELIVERED)).toBe(true);
  });

  it('answers everything still waiting when the node stops', () => {
    const { log, inFlight, send } = tracker();
    for (let i = 0; i < 300; i++) send(`s${i}`, 100);
    inFlight.answerAll(failed('all'));
    expect(log).toHaveLength(300);
    expect(inFlight.size).toBe(0);
    expect(inFlight.expire(1000, failed)).toBe(0);
    expect(inFlight.answer(send('after', 100), DELIVERED)).toBe(true);
  });
});
