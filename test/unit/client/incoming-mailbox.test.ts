import { describe, expect, it } from 'vitest';
import type { RelayDelivery } from '../../../src/protocol/index.js';
import { incomingFor, LocalUser } from './fakes.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('mailbox acknowledgements', () => {
  it('acknowledges a stored message seen before, so the server sends the next page', async () => {
    // Failed before: a redelivered (duplicate) message was dropped without `fetched`, and a
    // server that pages the mailbox waited for that acknowledgement forever.
    const { incoming, link } = incomingFor(new LocalUser('bob'));
    const stored: RelayDelivery = {
      type: 'relay',
      from: 'alice',
      to: 'bob',
      alg: 'TEST-UNKNOWN',
      nonce: Buffer.alloc(12).toString('base64'),
      cipher: Buffer.alloc(16).toString('base64'),
      id: 'm1',
      seq: 7,
    };
    incoming.handle(stored);
    await turn();
    incoming.handle(stored); // the same message again, after a reconnect
    await turn();
    expect(link.sent).toEqual([
      { type: 'fetched', upto: 7 },
      { type: 'fetched', upto: 7 },
    ]);
  });
});
