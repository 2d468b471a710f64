import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeJsonLine,
  encodeRelayDelivery,
  isValidName,
  MAX_RELAY_HEADER_BYTES,
  nameKey,
  parseClientFrame,
  parseServerFrame,
  type RelayFrame,
  readDirectory,
} from '../../../src/protocol/index.js';
import { codeOf, utf8 } from './helpers.js';

const b64 = (length: number, fill = 1) => Buffer.alloc(length, fill).toString('base64');
const PUB = b64(32);
const PUB2 = b64(32, 2);
const NONCE = b64(12, 2);
const CIPHER = b64(20, 3);
const SIG = b64(64, 4);
const BUNDLE_SPK = {
  type: 'bundle',
  user: 'bob',
  pub: PUB,
  idk: PUB2,
  sig: SIG,
  spk: { id: 9, created: 1, sig: SIG },
  caps: ['ratchet', 'spk'],
};
const relay = { type: 'relay', to: 'bob', alg: 'X25519+AESGCM', nonce: NONCE, cipher: CIPHER };
const hello = { type: 'hello', user: 'alice', pub: PUB };
const helloV2 = { ...hello, v: 2, caps: ['presence', 'ack'], idk: PUB2, pubsig: SIG, proof: SIG };

describe('parseClientFrame: valid frames', () => {
  it.each([
    ['v1 hello', hello, { ...hello, v: 1, caps: [] }],
    ['hello with v: 1', { ...hello, v: 1 }, { ...hello, v: 1, caps: [] }],
    [
      '32-character name',
      { ...hello, user: 'a'.repeat(32) },
      { ...hello, user: 'a'.repeat(32), v: 1, caps: [] },
    ],
    [
      'every allowed name character',
      { ...hello, user: 'Az09_.-' },
      { ...hello, user: 'Az09_.-', v: 1, caps: [] },
    ],
    ['unknown extra fields ignored', { ...hello, extra: { a: 1 } }, { ...hello, v: 1, caps: [] }],
    ['v2 hello with proofs', helloV2, helloV2],
    [
      'duplicate caps folded',
      { ...hello, caps: ['ack', 'ack'] },
      { ...hello, v: 1, caps: ['ack'] },
    ],
    ['list', { type: 'list' }, { type: 'list' }],
    ['list with extra fields', { type: 'list', users: 5 }, { type: 'list' }],
    ['ping', { type: 'ping' }, { type: 'ping' }],
    ['empty chat', { type: 'chat', text: '' }, { type: 'chat', text: '' }],
    [
      'chat with escapes and non-ASCII (the server echoes; clients neutralize on display)',
      { type: 'chat', text: 'hi \u001b[2J é 👋 \u202e' },
      { type: 'chat', text: 'hi \u001b[2J é 👋 \u202e' },
    ],
    ['relay', relay, relay],
    [
      'relay with the shortest cipher (a bare tag)',
      { ...relay, cipher: b64(16) },
      { ...relay, cipher: b64(16) },
    ],
    ['relay: a client-sent from is dropped', { ...relay, from: 'mallory' }, relay],
    ['relay with id', { ...relay, id: 'abc-1_Z' }, { ...relay, id: 'abc-1_Z' }],
    ['relay with a ratchet header', { ...relay, header: 'AAAA' }, { ...relay, header: 'AAAA' }],
    [
      'relay with another algorithm',
      { ...relay, alg: 'X3DH+DR.v2' },
      { ...relay, alg: 'X3DH+DR.v2' },
    ],
    ['relay with null id and header', { ...relay, id: null, header: null }, relay],
    [
      'prekeys with replace',
      { type: 'prekeys', keys: [{ id: 1, pub: PUB }], replace: true },
      { type: 'prekeys', keys: [{ id: 1, pub: PUB }], replace: true },
    ],
    [
      'a signed prekey alone (no one-time prekeys)',
      { type: 'prekeys', spk: { id: 7, created: 5, pub: PUB, sig: SIG, pubsig: SIG } },
      { type: 'prekeys', keys: [], spk: { id: 7, created: 5, pub: PUB, sig: SIG, pubsig: SIG } },
    ],
  ])('%s', (_label, frame, parsed) => {
    expect(parseClientFrame(frame as Record<string, unknown>)).toEqual(parsed);
  });

  it('returns a fresh object that holds none of the input object', () => {
    const input = { ...relay, id: 'x' };
    const parsed = parseClientFrame(input);
    expect(parsed).not.toBe(input);
    (input as Record<string, unknown>).to = 'mallory';
    expect((parsed as RelayFrame).to).toBe('bob');
  });
});

const badNames: Array<[string, unknown]> = [
  ['empty', ''],
  ['33 characters', 'a'.repeat(33)],
  ['inner space', 'a b'],
  ['leading space', ' alice'],
  ['trailing newline', 'alice\n'],
  ['tab', 'al\tice'],
  ['NUL', 'a\u0000'],
  ['BEL', 'a\u0007'],
  ['ESC sequence', 'a\u001b[31m'],
  ['DEL', 'a\u007f'],
  ['C1 CSI', 'a\u009b'],
  ['Cyrillic а homoglyph', 'аlice'],
  ['Greek ο homoglyph', 'bοb'],
  ['fullwidth letters', 'ａｌｉｃｅ'],
  ['accented letter', 'josé'],
  ['right-to-left override', 'alice\u202e'],
  ['left-to-right mark', '\u200ealice'],
  ['right-to-left mark', 'ali\u200fce'],
  ['bidi isolate', 'alice\u2066'],
  ['Arabic letter mark', 'alice\u061c'],
  ['zero-width space', 'ali\u200bce'],
  ['zero-width joiner', 'ali\u200dce'],
  ['byte order mark', '\ufeffalice'],
  ['at sign', 'alice@host'],
  ['slash', 'a/b'],
  ['colon', 'a:b'],
  ['room name', '#room'],
  ['emoji', 'bob👋'],
];

describe('parseClientFrame: invalid frames', () => {
  it.each(badNames)('hello with a bad name (%s): E_BAD_NAME', (_label, user) => {
    expect(codeOf(() => parseClientFrame({ ...hello, user }))).toBe('E_BAD_NAME');
  });

  it.each(badNames)('relay to a bad name (%s): E_BAD_NAME', (_label, to) => {
    expect(codeOf(() => parseClientFrame({ ...relay, to }))).toBe('E_BAD_NAME');
  });

  it.each([
    // type
    ['missing type', { user: 'a' }, 'E_UNKNOWN_TYPE'],
    ['null type', { type: null }, 'E_UNKNOWN_TYPE'],
    ['numeric type', { type: 1 }, 'E_UNKNOWN_TYPE'],
    ['array type', { type: ['hello'] }, 'E_UNKNOWN_TYPE'],
    ['object type', { type: { hello: 1 } }, 'E_UNKNOWN_TYPE'],
    ['unknown type', { type: 'dance' }, 'E_UNKNOWN_TYPE'],
    ['empty type', { type: '' }, 'E_UNKNOWN_TYPE'],
    ['type in upper case', { type: 'HELLO', user: 'a', pub: PUB }, 'E_UNKNOWN_TYPE'],
    ['type with a trailing space', { ...relay, type: 'relay ' }, 'E_UNKNOWN_TYPE'],
    ['server-only type', { type: 'welcome', users: {} }, 'E_UNKNOWN_TYPE'],
    // hello: name and key types
    ['hello without user', { type: 'hello', pub: PUB }, 'E_BAD_FIELD'],
    ['numeric user', { ...hello, user: 7 }, 'E_BAD_FIELD'],
    ['null user', { ...hello, user: null }, 'E_BAD_FIELD'],
    ['array user', { ...hello, user: ['alice'] }, 'E_BAD_FIELD'],
    ['object user', { ...hello, user: { name: 'alice' } }, 'E_BAD_FIELD'],
    ['hello without pub', { type: 'hello', user: 'a' }, 'E_BAD_FIELD'],
    ['pub 31 bytes', { ...hello, pub: b64(31) }, 'E_BAD_FIELD'],
    ['pub 33 bytes', { ...hello, pub: b64(33) }, 'E_BAD_FIELD'],
    ['pub 64 bytes', { ...hello, pub: b64(64) }, 'E_BAD_FIELD'],
    ['empty pub', { ...hello, pub: '' }, 'E_BAD_FIELD'],
    ['pub not Base64', { ...hello, pub: '!'.repeat(44) }, 'E_BAD_FIELD'],
    ['pub in hex', { ...hello, pub: Buffer.alloc(32, 1).toString('hex') }, 'E_BAD_FIELD'],
    ['pub unpadded', { ...hello, pub: PUB.replace(/=+$/, '') }, 'E_BAD_FIELD'],
    ['pub URL-safe alphabet', { ...hello, pub: `${'_'.repeat(43)}=` }, 'E_BAD_FIELD'],
    [
      'pub with a newline',
      { ...hello, pub: `${PUB.slice(0, 20)}\n${PUB.slice(20)}` },
      'E_BAD_FIELD',
    ],
    ['pub with a space', { ...hello, pub: ` ${PUB.slice(1)}` }, 'E_BAD_FIELD'],
    ['numeric pub', { ...hello, pub: 12345 }, 'E_BAD_FIELD'],
    ['pub as array', { ...hello, pub: [1, 2] }, 'E_BAD_FIELD'],
    ['pub as object', { ...hello, pub: { key: PUB } }, 'E_BAD_FIELD'],
    ['pub as bytes array', { ...hello, pub: Array.from(Buffer.alloc(32, 1)) }, 'E_BAD_FIELD'],
    // hello: version and capabilities
    ['v2 hello without proofs', { ...hello, v: 2 }, 'E_BAD_FIELD'],
    ['v2 hello with a short proof', { ...helloV2, proof: b64(63) }, 'E_BAD_FIELD'],
    ['version 0', { ...hello, v: 0 }, 'E_BAD_FIELD'],
    ['fractional version', { ...hello, v: 1.5 }, 'E_BAD_FIELD'],
    ['version as string', { ...hello, v: '1' }, 'E_BAD_FIELD'],
    ['infinite version', { ...hello, v: Number.POSITIVE_INFINITY }, 'E_BAD_FIELD'],
    ['caps not an array', { ...hello, caps: 'x' }, 'E_BAD_FIELD'],
    ['caps with a number', { ...hello, caps: [1] }, 'E_BAD_FIELD'],
    ['caps with an upper-case name', { ...hello, caps: ['ACK'] }, 'E_BAD_FIELD'],
    ['17 caps', { ...hello, caps: Array.from({ length: 17 }, (_, i) => `c${i}`) }, 'E_BAD_FIELD'],
    // chat
    ['chat without text', { type: 'chat' }, 'E_BAD_FIELD'],
    ['numeric chat text', { type: 'chat', text: 5 }, 'E_BAD_FIELD'],
    ['null chat text', { type: 'chat', text: null }, 'E_BAD_FIELD'],
    ['chat text as array', { type: 'chat', text: ['hi'] }, 'E_BAD_FIELD'],
    ['chat text as object', { type: 'chat', text: { a: 1 } }, 'E_BAD_FIELD'],
    // relay
    ['relay without to', { ...relay, to: undefined }, 'E_BAD_FIELD'],
    ['relay to a number', { ...relay, to: 5 }, 'E_BAD_FIELD'],
    ['relay to an array', { ...relay, to: ['bob'] }, 'E_BAD_FIELD'],
    ['relay without alg', { ...relay, alg: undefined }, 'E_BAD_FIELD'],
    ['numeric alg', { ...relay, alg: 1 }, 'E_BAD_FIELD'],
    ['alg with a quote', { ...relay, alg: 'a"b' }, 'E_BAD_FIELD'],
    ['alg with a space', { ...relay, alg: 'X25519 AESGCM' }, 'E_BAD_FIELD'],
    ['empty alg', { ...relay, alg: '' }, 'E_BAD_FIELD'],
    ['33-character alg', { ...relay, alg: 'A'.repeat(33) }, 'E_BAD_FIELD'],
    ['relay without nonce', { ...relay, nonce: undefined }, 'E_BAD_FIELD'],
    ['nonce 11 bytes', { ...relay, nonce: b64(11) }, 'E_BAD_FIELD'],
    ['nonce 13 bytes', { ...relay, nonce: b64(13) }, 'E_BAD_FIELD'],
    ['nonce 24 bytes', { ...relay, nonce: b64(24) }, 'E_BAD_FIELD'],
    ['nonce not Base64', { ...relay, nonce: '????????????????' }, 'E_BAD_FIELD'],
    ['numeric nonce', { ...relay, nonce: 0 }, 'E_BAD_FIELD'],
    ['relay without cipher', { ...relay, cipher: undefined }, 'E_BAD_FIELD'],
    ['empty cipher', { ...relay, cipher: '' }, 'E_BAD_FIELD'],
    ['cipher 15 bytes (shorter than the tag)', { ...relay, cipher: b64(15) }, 'E_BAD_FIELD'],
    ['cipher 4 bytes (a truncated tag)', { ...relay, cipher: b64(4) }, 'E_BAD_FIELD'],
    ['cipher not Base64', { ...relay, cipher: `${CIPHER.slice(0, -4)}%%%%` }, 'E_BAD_FIELD'],
    ['cipher unpadded', { ...relay, cipher: b64(20).replace(/=+$/, '') }, 'E_BAD_FIELD'],
    ['cipher as array', { ...relay, cipher: [1, 2, 3] }, 'E_BAD_FIELD'],
    ['id too long', { ...relay, id: 'x'.repeat(65) }, 'E_BAD_FIELD'],
    ['id with a quote', { ...relay, id: 'a"b' }, 'E_BAD_FIELD'],
    ['numeric id', { ...relay, id: 7 }, 'E_BAD_FIELD'],
    ['empty header', { ...relay, header: '' }, 'E_BAD_FIELD'],
    ['header too big', { ...relay, header: b64(MAX_RELAY_HEADER_BYTES + 1) }, 'E_BAD_FIELD'],
    ['numeric header', { ...relay, header: 1 }, 'E_BAD_FIELD'],
    ['prekeys without keys or spk', { type: 'prekeys' }, 'E_BAD_FIELD'],
    ['prekeys with an empty batch', { type: 'prekeys', keys: [] }, 'E_BAD_FIELD'],
    [
      'prekeys with a string replace',
      { type: 'prekeys', keys: [{ id: 1, pub: PUB }], replace: 'yes' },
      'E_BAD_FIELD',
    ],
    [
      'signed prekey without pubsig',
      { type: 'prekeys', spk: { id: 7, created: 5, pub: PUB, sig: SIG } },
      'E_BAD_FIELD',
    ],
    [
      'signed prekey with a fractional time',
      { type: 'prekeys', spk: { id: 7, created: 5.5, pub: PUB, sig: SIG, pubsig: SIG } },
      'E_BAD_FIELD',
    ],
    [
      'signed prekey id beyond 32 bits',
      { type: 'prekeys', spk: { id: 2 ** 32, created: 5, pub: PUB, sig: SIG, pubsig: SIG } },
      'E_BAD_FIELD',
    ],
  ])('%s: %s', (_label, frame, expected) => {
    const input = Object.fromEntries(Object.entries(frame).filter(([, v]) => v !== undefined));
    expect(codeOf(() => parseClientFrame(input))).toBe(expected);
  });
});

describe('names', () => {
  it('are unique case-insensitively, ASCII only', () => {
    expect(nameKey('Alice')).toBe(nameKey('ALICE'));
    expect(nameKey('alice')).not.toBe(nameKey('аlice'));
    expect(isValidName('alice')).toBe(true);
    expect(isValidName('аlice')).toBe(false);
  });
});

const peer = { pub: PUB, v: 2, idk: PUB2, sig: SIG, caps: ['ack'] };

describe('parseServerFrame: every server frame', () => {
  it.each([
    [
      'v1 welcome',
      { type: 'welcome', users: { alice: PUB } },
      { type: 'welcome', users: new Map([['alice', PUB]]), v: 1, caps: [] },
    ],
    [
      'v2 welcome with peers',
      { type: 'welcome', users: { bob: PUB2 }, v: 2, caps: ['presence'], peers: { bob: peer } },
      {
        type: 'welcome',
        users: new Map([['bob', PUB2]]),
        v: 2,
        caps: ['presence'],
        peers: new Map([['bob', peer]]),
      },
    ],
    ['users', { type: 'users', users: {} }, { type: 'users', users: new Map() }],
    [
      'users with peers',
      { type: 'users', users: { bob: PUB }, peers: { bob: { pub: PUB } } },
      {
        type: 'users',
        users: new Map([['bob', PUB]]),
        peers: new Map([['bob', { pub: PUB, v: 1 }]]),
      },
    ],
    ['server', { type: 'server', text: 'echo: x' }, { type: 'server', text: 'echo: x' }],
    ['relay', { ...relay, from: 'alice' }, { ...relay, from: 'alice' }],
    [
      'stored relay with seq',
      { ...relay, from: 'alice', id: 'm1', seq: 0 },
      { ...relay, from: 'alice', id: 'm1', seq: 0 },
    ],
    [
      'error with code and ref',
      { type: 'error', code: 'E_X', text: 't', ref: 'r' },
      { type: 'error', code: 'E_X', text: 't', ref: 'r' },
    ],
    [
      'bare seed error',
      { type: 'error', text: 'name taken' },
      { type: 'error', text: 'name taken' },
    ],
    ['error without text', { type: 'error' }, { type: 'error', text: '' }],
    ['ack', { type: 'ack', id: 'a1' }, { type: 'ack', id: 'a1' }],
    ['pong (extra fields dropped)', { type: 'pong', at: 5 }, { type: 'pong' }],
    [
      'queued ack',
      { type: 'ack', id: 'a1', queued: true },
      { type: 'ack', id: 'a1', queued: true },
    ],
    [
      'presence join',
      { type: 'presence', event: 'join', user: 'bob', peer },
      { type: 'presence', event: 'join', user: 'bob', peer },
    ],
    [
      'presence leave',
      { type: 'presence', event: 'leave', user: 'bob' },
      { type: 'presence', event: 'leave', user: 'bob' },
    ],
    [
      'bundle',
      {
        type: 'bundle',
        user: 'bob',
        pub: PUB,
        idk: PUB2,
        sig: SIG,
        opk: { id: 3, pub: PUB },
        online: true,
        id: 'q',
      },
      {
        type: 'bundle',
        user: 'bob',
        pub: PUB,
        idk: PUB2,
        sig: SIG,
        opk: { id: 3, pub: PUB },
        online: true,
        id: 'q',
      },
    ],
    [
      'bundle without one-time prekey',
      { type: 'bundle', user: 'bob', pub: PUB, idk: PUB2, sig: SIG },
      { type: 'bundle', user: 'bob', pub: PUB, idk: PUB2, sig: SIG, online: false },
    ],
    ['prekey count', { type: 'prekeys', stored: 4 }, { type: 'prekeys', stored: 4 }],
    [
      'prekey count with the current signed prekey',
      { type: 'prekeys', stored: 4, spk: { id: 9, created: 1 } },
      { type: 'prekeys', stored: 4, spk: { id: 9, created: 1 } },
    ],
    ['bundle with a signed prekey and caps', BUNDLE_SPK, { ...BUNDLE_SPK, online: false }],
    [
      'joined',
      {
        type: 'joined',
        room: '#lobby',
        topic: 'hi',
        members: { bob: { ...peer, role: 'op' } },
        id: 'j',
      },
      {
        type: 'joined',
        room: '#lobby',
        topic: 'hi',
        members: new Map([['bob', { ...peer, role: 'op' }]]),
        id: 'j',
      },
    ],
    [
      'who',
      { type: 'who', room: '#lobby', members: { bob: peer } },
      { type: 'who', room: '#lobby', members: new Map([['bob', peer]]) },
    ],
    [
      'room event',
      { type: 'room', room: '#lobby', event: 'kick', user: 'bob', by: 'alice', reason: 'spam' },
      { type: 'room', room: '#lobby', event: 'kick', user: 'bob', by: 'alice', reason: 'spam' },
    ],
    [
      'rooms',
      {
        type: 'rooms',
        rooms: [{ room: '#a', members: 2, topic: 't', password: true }, { room: 'bad' }],
      },
      { type: 'rooms', rooms: [{ room: '#a', members: 2, topic: 't', password: true }] },
    ],
    [
      'roommsg',
      {
        type: 'roommsg',
        room: '#a',
        from: 'bob',
        alg: 'SK',
        header: 'AAAA',
        nonce: NONCE,
        cipher: CIPHER,
        sig: SIG,
      },
      {
        type: 'roommsg',
        room: '#a',
        from: 'bob',
        alg: 'SK',
        header: 'AAAA',
        nonce: NONCE,
        cipher: CIPHER,
        sig: SIG,
      },
    ],
    ['motd', { type: 'motd', text: 'welcome' }, { type: 'motd', text: 'welcome' }],
    [
      'unknown type',
      { type: 'from-the-future', x: 1 },
      { type: 'unknown', rawType: 'from-the-future' },
    ],
    [
      'unknown type with an id of another shape',
      { type: 'receipt', id: 12345, extra: [1] },
      { type: 'unknown', rawType: 'receipt' },
    ],
  ])('%s', (_label, frame, parsed) => {
    expect(parseServerFrame(frame as Record<string, unknown>)).toEqual(parsed);
  });

  it.each([
    ['missing type', { text: 'x' }, 'E_UNKNOWN_TYPE'],
    ['numeric type', { type: 3 }, 'E_UNKNOWN_TYPE'],
    ['relay without from', relay, 'E_BAD_FIELD'],
    ['relay from a bad name', { ...relay, from: 'a b' }, 'E_BAD_NAME'],
    ['relay from a homoglyph', { ...relay, from: 'аlice' }, 'E_BAD_NAME'],
    ['relay with a short nonce', { ...relay, from: 'alice', nonce: b64(8) }, 'E_BAD_FIELD'],
    ['relay with a negative seq', { ...relay, from: 'alice', seq: -1 }, 'E_BAD_FIELD'],
    ['relay with a fractional seq', { ...relay, from: 'alice', seq: 1.5 }, 'E_BAD_FIELD'],
    ['relay with a string seq', { ...relay, from: 'alice', seq: '1' }, 'E_BAD_FIELD'],
    ['welcome without users', { type: 'welcome' }, 'E_BAD_FIELD'],
    ['welcome with users as array', { type: 'welcome', users: [PUB] }, 'E_BAD_FIELD'],
    ['users with peers as string', { type: 'users', users: {}, peers: 'x' }, 'E_BAD_FIELD'],
    ['server without text', { type: 'server' }, 'E_BAD_FIELD'],
    ['numeric server text', { type: 'server', text: 1 }, 'E_BAD_FIELD'],
    ['numeric error text', { type: 'error', text: 1 }, 'E_BAD_FIELD'],
    ['ack without id', { type: 'ack' }, 'E_BAD_FIELD'],
    [
      'presence with an unknown event',
      { type: 'presence', event: 'wave', user: 'bob' },
      'E_BAD_FIELD',
    ],
    ['presence join without peer', { type: 'presence', event: 'join', user: 'bob' }, 'E_BAD_FIELD'],
    [
      'presence for a bad name',
      { type: 'presence', event: 'leave', user: 'b\u202eob' },
      'E_BAD_NAME',
    ],
    ['bundle without sig', { type: 'bundle', user: 'bob', pub: PUB, idk: PUB2 }, 'E_BAD_FIELD'],
    ['negative prekey count', { type: 'prekeys', stored: -1 }, 'E_BAD_FIELD'],
    [
      'bundle with a short signed prekey signature',
      {
        type: 'bundle',
        user: 'bob',
        pub: PUB,
        idk: PUB2,
        sig: SIG,
        spk: { id: 1, created: 1, sig: PUB },
      },
      'E_BAD_FIELD',
    ],
    ['joined to a bad room', { type: 'joined', room: 'lobby', members: {} }, 'E_BAD_NAME'],
    ['room event unknown', { type: 'room', room: '#a', event: 'dance' }, 'E_BAD_FIELD'],
    ['rooms not an array', { type: 'rooms', rooms: {} }, 'E_BAD_FIELD'],
  ])('%s: %s', (_label, frame, expected) => {
    expect(codeOf(() => parseServerFrame(frame as Record<string, unknown>))).toBe(expected);
  });

  it('property: any frame type it does not know comes back as unknown, whatever its fields', () => {
    const known = new Set(['relay', 'bundle', 'prekeys', 'welcome', 'users', 'presence', 'server']);
    for (const t of ['error', 'ack', 'joined', 'who', 'room', 'rooms', 'roommsg', 'motd'])
      known.add(t);
    const forbidden = new Set(['__proto__', 'constructor', 'prototype', 'type']);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((t) => !known.has(t)),
        fc.dictionary(
          fc.string({ maxLength: 8 }).filter((k) => !forbidden.has(k)),
          fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 6 },
        ),
        fc.option(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { nil: undefined }),
        (type, fields, id) => {
          const frame: Record<string, unknown> = { ...fields, type };
          if (id !== undefined) frame.id = id;
          expect(parseServerFrame(frame)).toEqual({ type: 'unknown', rawType: type });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('readDirectory', () => {
  it('skips bad entries and keeps the others, in order', () => {
    const { users, skipped } = readDirectory({
      alice: PUB,
      'b b': PUB,
      carol: 'short',
      dave: 5,
      аlice: PUB,
      frank: b64(31),
      gina: PUB.replace(/=+$/, ''),
      hank: null,
      ivan: { pub: PUB },
      erin: PUB2,
    });
    expect([...users]).toEqual([
      ['alice', PUB],
      ['erin', PUB2],
    ]);
    expect(skipped).toBe(8);
  });

  it.each([
    ['null', null],
    ['array', [PUB]],
    ['string', 'alice'],
    ['number', 1],
  ])('refuses a users field that is a %s (E_BAD_FIELD)', (_label, value) => {
    expect(codeOf(() => readDirectory(value))).toBe('E_BAD_FIELD');
  });
});

const nameArb = fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/).filter(isValidName);
const base64Arb = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
const relayArb = fc.record(
  {
    type: fc.constant('relay' as const),
    to: nameArb,
    alg: fc.stringMatching(/^[A-Za-z0-9+._-]{1,32}$/),
    nonce: base64Arb(12, 12),
    cipher: base64Arb(16, 80),
    id: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    header: base64Arb(1, 64),
  },
  { requiredKeys: ['type', 'to', 'alg', 'nonce', 'cipher'] },
);

describe('encodeRelayDelivery', () => {
  it('writes one JSON line with the server-set from, that parses back to the same fields', () => {
    const line = encodeRelayDelivery(
      'alice',
      { ...relay, id: 'x-1', header: 'AAAA' } as RelayFrame,
      7,
    );
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual({
      ...relay,
      from: 'alice',
      id: 'x-1',
      header: 'AAAA',
      seq: 7,
    });
    expect(JSON.parse(encodeRelayDelivery('alice', relay as RelayFrame))).toEqual({
      ...relay,
      from: 'alice',
    });
  });

  it('property: any valid relay, as delivered, parses back (JSON.parse and parseServerFrame)', () => {
    fc.assert(
      fc.property(
        relayArb,
        nameArb,
        fc.option(fc.nat(), { nil: undefined }),
        (frame, from, seq) => {
          const parsed = parseClientFrame(frame) as RelayFrame;
          const line = encodeRelayDelivery(from, parsed, seq);
          const expected = seq === undefined ? { ...frame, from } : { ...frame, from, seq };
          expect(JSON.parse(line)).toEqual(expected);
          expect(parseServerFrame(decodeJsonLine(utf8(line.slice(0, -1))))).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
