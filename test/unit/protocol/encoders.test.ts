import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  asciiJson,
  type BundleFrame,
  decodeJsonLine,
  ErrorCode,
  encodeAck,
  encodeBundle,
  encodeDropped,
  encodeError,
  encodeJoined,
  encodeMemberInfo,
  encodeMembersMap,
  encodeMotd,
  encodePeerInfo,
  encodePeersMap,
  encodePrekeyCount,
  encodePresenceJoin,
  encodePresenceLeave,
  encodeRelayDelivery,
  encodeRoomEvent,
  encodeRoomMessageDelivery,
  encodeRoomSummary,
  encodeRoomsPage,
  encodeServerText,
  encodeStoredDelivery,
  encodeUsersMap,
  encodeUsersV1,
  encodeUsersV2,
  encodeWelcomeV1,
  encodeWelcomeV2,
  encodeWho,
  type HelloFrame,
  isValidName,
  type ParsedServerFrame,
  PONG_LINE,
  parseServerFrame,
  type RelayFrame,
  type RoomMessageFrame,
  SERVER_CAPS,
} from '../../../src/protocol/index.js';

/**
 * Every encoder the server writes with: its line parses back, with the protocol's own
 * client-side parser, to what was encoded (round trip), and equals the JSON.stringify of
 * the same object with non-ASCII escaped (differential: the templates add nothing and lose nothing).
 */

const parse = (line: string): ParsedServerFrame => {
  expect(line.endsWith('\n')).toBe(true);
  expect(line.slice(0, -1)).not.toContain('\n');
  expect(line).toMatch(/^[\x00-\x7f]*$/);
  return parseServerFrame(decodeJsonLine(Buffer.from(line, 'latin1')));
};
/** Differential: the line is JSON.stringify of the reference, non-ASCII escaped. */
const same = (line: string, reference: object) => expect(line).toBe(`${asciiJson(reference)}\n`);

const b64 = (n: number, fill = 1) => Buffer.alloc(n, fill).toString('base64');
const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/).filter(isValidName);
const room = name.map((n) => `#${n}`);
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const base64 = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
const text = fc.string({ maxLength: 60, unit: 'grapheme' });
const alg = fc.stringMatching(/^[A-Za-z0-9+._-]{1,32}$/);

const relay = fc.record(
  {
    type: fc.constant('relay' as const),
    to: name,
    alg,
    nonce: base64(12, 12),
    cipher: base64(16, 80),
    id,
    header: base64(1, 100),
  },
  { requiredKeys: ['type', 'to', 'alg', 'nonce', 'cipher'] },
);

const hello = (v: number, caps: string[] = []): HelloFrame => ({
  type: 'hello',
  user: 'alice',
  pub: b64(32, 5),
  v,
  caps,
  ...(v >= 2 ? { idk: b64(32, 6), pubsig: b64(64, 7), proof: b64(64, 8) } : {}),
});

describe('core encoders', () => {
  it('relay deliveries round-trip, with and without a mailbox seq, through the stored form too', () => {
    fc.assert(
      fc.property(name, relay, fc.option(fc.nat(), { nil: undefined }), (from, r, seq) => {
        const line = encodeRelayDelivery(from, r as RelayFrame, seq);
        expect(parse(line)).toEqual({ ...r, from, ...(seq === undefined ? {} : { seq }) });
        same(line, {
          type: 'relay',
          from,
          to: r.to,
          alg: r.alg,
          ...(r.header === undefined ? {} : { header: r.header }),
          nonce: r.nonce,
          cipher: r.cipher,
          ...(r.id === undefined ? {} : { id: r.id }),
          ...(seq === undefined ? {} : { seq }),
        });
        if (seq !== undefined) {
          const stored = encodeRelayDelivery(from, r as RelayFrame);
          expect(encodeStoredDelivery(stored, seq)).toBe(line);
        }
      }),
    );
  });

  it('a damaged stored delivery is refused, not forwarded', () => {
    expect(() => encodeStoredDelivery('{"type":"relay","from":"a"}\n', 1)).toThrow();
    expect(() => encodeStoredDelivery('not json', 1)).toThrow();
  });

  it('acks, pong, server text and errors round-trip', () => {
    fc.assert(
      fc.property(id, fc.boolean(), text, (ref, queued, t) => {
        expect(parse(encodeAck(ref, queued))).toEqual({
          type: 'ack',
          id: ref,
          ...(queued ? { queued } : {}),
        });
        same(encodeAck(ref, queued), { type: 'ack', id: ref, ...(queued ? { queued } : {}) });
        expect(parse(encodeServerText(t))).toEqual({ type: 'server', text: t });
        expect(parse(encodeError(ErrorCode.BAD_FIELD, t, ref))).toEqual({
          type: 'error',
          code: ErrorCode.BAD_FIELD,
          text: t,
          ref,
        });
        expect(parse(encodeError(ErrorCode.INTERNAL, t))).toEqual({
          type: 'error',
          code: ErrorCode.INTERNAL,
          text: t,
        });
      }),
    );
    expect(parse(PONG_LINE)).toEqual({ type: 'pong' });
  });
});

describe('directory encoders', () => {
  it('a users map keeps one key per name (the last) and escapes what JSON needs', () => {
    expect(
      encodeUsersMap([
        ['alice', 'k1'],
        ['bob', 'k2'],
        ['alice', 'k3'],
      ]),
    ).toBe('{"alice":"k3","bob":"k2"}');
    expect(
      JSON.parse(
        encodeUsersMap([
          ['a"b\\c', 'k'],
          ['__proto__', 'p'],
        ]),
      ),
    ).toEqual(JSON.parse('{"a\\"b\\\\c":"k","__proto__":"p"}'));
    expect(encodeUsersMap([])).toBe('{}');
  });

  const peers = fc.uniqueArray(name, { maxLength: 5, selector: (n) => n.toLowerCase() });

  it('welcome, users and presence round-trip for v1 and v2', () => {
    fc.assert(
      fc.property(peers, fc.subarray(['presence', 'ack', 'ratchet']), (names, caps) => {
        const v1 = names.map((n) => [n, b64(32, n.length)] as const);
        const v2 = names.map((n) => [n, encodePeerInfo({ ...hello(2, caps), user: n })] as const);
        const usersJson = encodeUsersMap(v1);
        const peersJson = encodePeersMap(v2);
        const users = new Map(v1);
        const peerInfo = { pub: b64(32, 5), v: 2, idk: b64(32, 6), sig: b64(64, 7), caps };
        const peerMap = new Map(names.map((n) => [n, peerInfo]));
        expect(parse(encodeWelcomeV1(usersJson))).toEqual({
          type: 'welcome',
          users,
          v: 1,
          caps: [],
        });
        expect(parse(encodeWelcomeV2(peersJson))).toEqual({
          type: 'welcome',
          users: new Map(),
          v: 2,
          caps: [...SERVER_CAPS],
          peers: peerMap,
          // with files (and fbin) comes the largest chunk size taken in binary mode
          maxchunk: 1024 * 1024,
        });
        expect(parse(encodeUsersV1(usersJson))).toEqual({ type: 'users', users });
        expect(parse(encodeUsersV2(peersJson))).toEqual({
          type: 'users',
          users: new Map(),
          peers: peerMap,
        });
        // The same JSON value as the reference; members in directory order (JSON.stringify
        // of an object would move integer-like names such as "0" first).
        const usersLine = encodeUsersV1(usersJson);
        expect(JSON.parse(usersLine)).toEqual({ type: 'users', users: Object.fromEntries(v1) });
      }),
    );
    const v1Peer = encodePeerInfo(hello(1));
    expect(JSON.parse(v1Peer)).toEqual({ pub: b64(32, 5), v: 1 });
    expect(parse(encodePresenceJoin('bob', v1Peer))).toEqual({
      type: 'presence',
      event: 'join',
      user: 'bob',
      peer: { pub: b64(32, 5), v: 1 },
    });
    expect(parse(encodePresenceLeave('bob'))).toEqual({
      type: 'presence',
      event: 'leave',
      user: 'bob',
    });
  });
});

describe('prekey encoders', () => {
  it('bundles and counts round-trip', () => {
    const full: BundleFrame = {
      type: 'bundle',
      user: 'bob',
      id: 'b1',
      pub: b64(32, 1),
      idk: b64(32, 2),
      sig: b64(64, 3),
      spk: { id: 7, created: 1_700_000_000_000, sig: b64(64, 4) },
      opk: { id: 9, pub: b64(32, 5) },
      online: true,
      caps: ['ratchet', 'spk'],
    };
    expect(parse(encodeBundle(full))).toEqual(full);
    same(encodeBundle(full), full);
    const bare: BundleFrame = {
      type: 'bundle',
      user: 'bob',
      pub: b64(32, 1),
      idk: b64(32, 2),
      sig: b64(64, 3),
      online: false,
    };
    expect(parse(encodeBundle(bare))).toEqual(bare);
    expect(parse(encodePrekeyCount(3))).toEqual({ type: 'prekeys', stored: 3 });
    expect(parse(encodePrekeyCount(0, { id: 1, created: 2 }))).toEqual({
      type: 'prekeys',
      stored: 0,
      spk: { id: 1, created: 2 },
    });
  });
});

describe('room encoders', () => {
  it('joined, who, events, pages, motd, dropped and room messages round-trip', () => {
    fc.assert(
      fc.property(room, name, name, text, id, fc.nat(), (r, user, by, t, ref, n) => {
        const peer = encodePeerInfo({ ...hello(2, ['rooms']), user });
        const members = encodeMembersMap([[user, encodeMemberInfo(peer, 'owner')]]);
        const info = {
          pub: b64(32, 5),
          v: 2,
          idk: b64(32, 6),
          sig: b64(64, 7),
          caps: ['rooms'],
        };
        const memberMap = new Map([[user, { ...info, role: 'owner' }]]);
        expect(parse(encodeJoined(r, t, members, { id: ref }))).toEqual({
          type: 'joined',
          room: r,
          topic: t,
          members: memberMap,
          id: ref,
        });
        expect(
          parse(encodeJoined(r, t, members, { created: true, password: true, id: undefined })),
        ).toEqual({
          type: 'joined',
          room: r,
          topic: t,
          members: memberMap,
          created: true,
          password: true,
        });
        expect(parse(encodeWho(r, members, ref))).toEqual({
          type: 'who',
          room: r,
          members: memberMap,
          id: ref,
        });
        expect(parse(encodeRoomEvent({ event: 'join', room: r, user, peerJson: peer }))).toEqual({
          type: 'room',
          event: 'join',
          room: r,
          user,
          peer: info,
        });
        const kick = encodeRoomEvent({ event: 'kick', room: r, user, by, reason: t || 'x' });
        expect(parse(kick)).toEqual({
          type: 'room',
          event: 'kick',
          room: r,
          user,
          by,
          reason: t || 'x',
        });
        same(kick, { type: 'room', event: 'kick', room: r, user, by, reason: t || 'x' });
        const topic = encodeRoomEvent({ event: 'topic', room: r, text: t, by });
        expect(parse(topic)).toEqual({ type: 'room', event: 'topic', room: r, text: t, by });
        same(encodeRoomEvent({ event: 'password', room: r, set: true, by }), {
          type: 'room',
          event: 'password',
          room: r,
          set: true,
          by,
        });
        const row = { room: r, members: n, topic: t, password: n % 2 === 0 };
        expect(parse(encodeRoomsPage([encodeRoomSummary(row)], r, ref))).toEqual({
          type: 'rooms',
          rooms: [row],
          next: r,
        });
        expect(parse(encodeMotd(t))).toEqual({ type: 'motd', text: t });
        expect(parse(encodeDropped(r, n + 1))).toEqual({
          type: 'dropped',
          room: r,
          messages: n + 1,
        });
        const message: RoomMessageFrame = {
          type: 'roommsg',
          room: r,
          alg: 'SK1+AESGCM+ED25519',
          header: b64(9),
          nonce: b64(12),
          cipher: b64(20),
          sig: b64(64),
          id: ref,
        };
        expect(parse(encodeRoomMessageDelivery(user, r, message))).toEqual({
          ...message,
          from: user,
        });
      }),
      { numRuns: 50 },
    );
  });
});
