import { describe, expect, it } from 'vitest';
import { FRAME_TABLE } from '../../../src/server/frame-table.js';

describe('the relay rule of the frame table', () => {
  it('needs nothing but the hello, which is what lets Session skip refusalFor on the fast path', () => {
    // Session.#handleLine takes canonical relays in state "ready" without refusalFor: if
    // relays ever need an identity, a capability or a phase, the fast path must check it too.
    const rule = FRAME_TABLE.relay;
    expect(rule.phase).toBeUndefined();
    expect(rule.identity).toBeUndefined();
    expect(rule.capability).toBeUndefined();
  });
});
