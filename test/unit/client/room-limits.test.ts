import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { clientLimits } from '../../../src/client/e2ee/limits.js';
import { type ClientEvent, eventSink } from '../../../src/client/events.js';
import { LocalUser } from '../../../src/client/identity/local-user.js';
import { RoomLimits } from '../../../src/client/rooms/room-limits.js';
import { RoomManager } from '../../../src/client/rooms/room-manager.js';
import { PeerBook } from '../../../src/client/trust/peer-book.js';
import {
  createSenderKey,
  generateIdentityKeyPair,
  type RoomMemberInfo,
  type SenderKey,
  sealRoomMessage,
  toBase64,
} from '../../../src/protocol/index.js';

const DAY = 24 * 3_600_000;

/** A hostile member's own code: a sender key whose chain it moves `n` steps without sending. */
function skipAhead(key: SenderKey, n: number): void {
  for (let i = 0; i < n; i++) key.chainKey = hmac(sha256, key.chainKey, Uint8Array.of(2));
  key.iteration += n;
}

function harness(limits = clientLimits()) {
  const clock = { now: 1_800_000_000_000 };
  const events: ClientEvent[] = [];
  const now = () => clock.now;
  const roomLimits = new RoomLimits(limits, now);
  const rooms = new RoomManager({
    user: new LocalUser('alice'),
    link: { ready: true, send: () => true },
    peers: new PeerBook({ server: 'sha256:00' }),
    keys: { sendControl: async () => true },
    limits: roomLimits,
    sink: eventSink((e) => events.push(e), now),
    now,
  });
  const mallory = generateIdentityKeyPair();
  const info: RoomMemberInfo = {
    pub: toBase64(mallory.publicKey),
    v: 2,
    idk: toBase64(mallory.publicKey),
  };
  rooms.onFrame({
    type: 'joined',
    room: '#club',
    topic: '',
    members: new Map([
      ['alice', { pub: info.pub, v: 2 }],
      ['mallory', info],
    ]),
  });
  /** mallory hands alice a new sender key and sends at iterations `at` (alice skips the rest). */
  const attack = (at: number[]) => {
    const key = createSenderKey();
    rooms.onSenderKey(
      'mallory',
      info.idk!,
      {
        t: 'sk',
        room: '#club',
        keyId: key.keyId,
        iteration: 0,
        chainKey: toBase64(key.chainKey),
        signingKey: toBase64(key.signing.publicKey),
      },
      'known',
    );
    for (const iteration of at) {
      skipAhead(key, iteration - key.iteration);
      const sealed = sealRoomMessage(
        key,
        '#club',
        'mallory',
        new TextEncoder().encode('{"t":"text","text":"x"}'),
      );
      rooms.onFrame({
        type: 'roommsg',
        room: '#club',
        from: 'mallory',
        alg: sealed.alg,
        header: toBase64(sealed.header),
        nonce: toBase64(sealed.nonce),
        cipher: toBase64(sealed.cipher),
        sig: toBase64(sealed.signature),
      });
    }
    return key;
  };
  return { rooms, roomLimits, attack, events, clock };
}

describe('room limits: one member cannot grow everyone without bound', () => {
  it('many sender keys with thousands of skipped keys each: bounded per member and in all', () => {
    // The attack of the issue was 300 keys × 2,000 skipped keys (348 MiB per member); here 24
    // keys with the default caps show the bound (bench/ runs the full attack on the real CLI).
    const { roomLimits, attack, events } = harness();
    for (let i = 0; i < 24; i++) attack([1000, 2000]);
    expect(events.filter((e) => e.kind === 'message')).toHaveLength(48);
    expect(roomLimits.senderKeys).toBe(4);
    expect(roomLimits.skippedKeys).toBeLessThanOrEqual(10_000);
    expect(roomLimits.skippedKeys).toBe(4 * 1999);
  });

  it('across members and rooms the totals hold; the least recently used chains lose keys first', () => {
    const { roomLimits, attack } = harness(
      clientLimits({ senderKeysPerMember: 10, senderKeys: 6, roomSkippedKeys: 50 }),
    );
    for (let i = 0; i < 9; i++) attack([20]);
    expect(roomLimits.senderKeys).toBe(6);
    expect(roomLimits.skippedKeys).toBeLessThanOrEqual(50);
  });

  it('skipped room keys expire by age', () => {
    const { roomLimits, attack, clock } = harness();
    attack([10]);
    expect(roomLimits.skippedKeys).toBe(10);
    clock.now += 29 * DAY;
    expect(roomLimits.maintain()).toBe(0);
    clock.now += 2 * DAY;
    expect(roomLimits.maintain()).toBe(10);
    expect(roomLimits.skippedKeys).toBe(0);
  });
});
