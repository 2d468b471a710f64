import { describe, expect, it } from 'vitest';
import {
  EncodedRelay,
  encodeRelayDelivery,
  type RelayFrame,
  readCanonicalRelay,
} from '../../../src/protocol/index.js';
import {
  appendRelay,
  packRelay,
  packReplies,
  readReplies,
  relayCorrs,
  unpackRelays,
} from '../../../src/server/cluster/inbox-codec.js';
import type { RouteOutcome } from '../../../src/server/router.js';

/** Relays and answers between cluster nodes: what one node packs, the other reads back. */
const relay = (to: string, id?: string): RelayFrame =>
  ({
    type: 'relay',
    to,
    alg: 'X25519+AESGCM',
    nonce: Buffer.alloc(12, 1).toString('base64'),
    cipher: Buffer.alloc(40, 2).toString('base64'),
    ...(id ? { id } : {}),
  }) as RelayFrame;

describe('inbox codec', () => {
  it('carries each relay as the delivery line its recipient reads, with who sent it', () => {
    const v2 = { name: 'alice', identityKey: 'aWRr', addressKey: undefined };
    const v1 = { name: 'bob', identityKey: undefined, addressKey: '10.0.0.1' };
    const batch =
      packRelay(1, 1000, v2, new EncodedRelay(relay('carol', 'm1'))) +
      packRelay(2, 2000, v1, new EncodedRelay(relay('dave')));
    const read = unpackRelays(batch).map((r) => ({
      corr: r.corr,
      deadline: r.deadline,
      from: { name: r.from.name, identityKey: r.from.identityKey, addressKey: r.from.addressKey },
      to: r.to,
      cipherBytes: r.cipherBytes,
      line: r.line,
    }));
    expect(read).toEqual([
      {
        corr: 1,
        deadline: 1000,
        from: v2,
        to: 'carol',
        cipherBytes: relay('carol').cipher.length,
        line: encodeRelayDelivery('alice', relay('carol', 'm1')),
      },
      {
        corr: 2,
        deadline: 2000,
        from: v1,
        to: 'dave',
        cipherBytes: relay('dave').cipher.length,
        line: encodeRelayDelivery('bob', relay('dave')),
      },
    ]);
    expect(unpackRelays('')).toEqual([]);
    // Numbers that are not (a damaged or foreign item) read as Number() reads them.
    const odd = unpackRelays(`x1\t\talice\t\t\tbob\t12a\t{}\n`)[0];
    expect([odd?.corr, odd?.deadline, odd?.cipherBytes]).toEqual([Number.NaN, 0, Number.NaN]);
    expect([odd?.from.identityKey, odd?.from.addressKey]).toEqual([undefined, undefined]);
  });

  it('packs a relay read by the fast path exactly as the same relay read by the parser', () => {
    const frame = relay('carol', 'm1');
    const line = `{"type":"relay","to":"carol","alg":"${frame.alg}","nonce":"${frame.nonce}","cipher":"${frame.cipher}","id":"m1"}`;
    const spliced = readCanonicalRelay(Buffer.from(line, 'latin1'));
    expect(spliced).toBeDefined();
    const from = { name: 'alice', identityKey: 'aWRr', addressKey: undefined };
    expect(packRelay(1, 1000, from, spliced!)).toBe(
      packRelay(1, 1000, from, new EncodedRelay(frame)),
    );
  });

  it('packs items as the previous version did (rolling upgrade), many per batch', () => {
    const from = { name: 'alice', identityKey: 'aWRr', addressKey: '10.0.0.1' };
    const frame = relay('carol', 'm1');
    const line = encodeRelayDelivery('alice', frame);
    // The previous version's item, a template literal of the eight fields.
    const old = (corr: number, deadline: number) =>
      `${corr}\t${deadline}\talice\taWRr\t10.0.0.1\tcarol\t${frame.cipher.length}\t${line}`;
    const parts: Array<string | number> = [];
    appendRelay(parts, 7, 1000, from, new EncodedRelay(frame));
    appendRelay(parts, 8, 1000, from, new EncodedRelay(frame));
    appendRelay(parts, 9, 1001, from, new EncodedRelay(frame));
    const batch = parts.join('');
    expect(batch).toBe(old(7, 1000) + old(8, 1000) + old(9, 1001));
    expect(relayCorrs(batch)).toEqual([7, 8, 9]);
    // A sender's fields are made once, and again when its name is not the one they hold.
    const renamed = { ...from };
    appendRelay([], 1, 1, renamed, new EncodedRelay(frame));
    renamed.name = 'al';
    expect(packRelay(1, 1, renamed, new EncodedRelay(frame))).toBe(
      `1\t1\tal\taWRr\t10.0.0.1\tcarol\t${frame.cipher.length}\t${encodeRelayDelivery('al', frame)}`,
    );
  });

  it('refuses a damaged batch instead of delivering part of an item', () => {
    const item = packRelay(
      1,
      1000,
      { name: 'a', identityKey: undefined, addressKey: undefined },
      new EncodedRelay(relay('b')),
    );
    expect(() => unpackRelays(item.slice(0, -1))).toThrow('unterminated');
    expect(() => unpackRelays('1\t2\t3\n')).toThrow('missing field');
  });

  it('answers delivered in a word and anything else in full', () => {
    const failed: RouteOutcome = {
      kind: 'failed',
      code: 'E_MAILBOX_FULL',
      text: 'bob is offline and their mailbox is full',
      reason: 'recipient_full',
    } as RouteOutcome;
    const answers: Array<[number, RouteOutcome]> = [
      [1, { kind: 'delivered' }],
      [22, { kind: 'stored', seq: 7 }],
      [333, failed],
    ];
    const text = packReplies(
      answers.map(([corr]) => String(corr)),
      answers.map(([, outcome]) => outcome),
    );
    expect(text.startsWith('1\n22\t')).toBe(true); // delivered: the corr alone
    const read: Array<[number, RouteOutcome]> = [];
    readReplies(text, (corr, outcome) => read.push([corr, outcome]));
    expect(read).toEqual(answers);
  });

  it('answers nothing for a corr this node did not write (not decimal digits)', () => {
    const read: number[] = [];
    readReplies('x1\n1a\n\n12\n9999999999999999\n\t{}\n7\t{"kind":"delivered"}', (corr) =>
      read.push(corr),
    );
    expect(read).toEqual([12, 7]);
  });
});
