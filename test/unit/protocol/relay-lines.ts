import fc from 'fast-check';
import {
  decodeJsonLine,
  encodeRelayDelivery,
  ProtocolError,
  parseClientFrame,
  readCanonicalRelay,
  readRelayDelivery,
} from '../../../src/protocol/index.js';

/**
 * Relay lines for the fast-path property tests (issue 16): canonical lines as our encoder
 * would write them, and the same lines bent every way a client or an attacker could bend
 * them (keys reordered, duplicated, unknown, `from`, `__proto__`; `\u` escapes, whitespace;
 * values a byte off their rules). The default suite runs a few hundred; test/slow many more.
 */

const b64Of = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));

/** A Base64 value bent off the canonical form (or not): padding, alphabet, spare bits. */
const bentB64 = (value: string) =>
  fc.oneof(
    { weight: 20, arbitrary: fc.constant(value) },
    fc.constantFrom(
      value.replace(/=+$/, ''),
      `${value}=`,
      value.replace(/[+/]/, '-'),
      value.length > 4 ? `${value.slice(0, 2)}=${value.slice(3)}` : value,
      value.replace(/[A-Za-z0-9+/](=+)$/, 'B$1'),
      value.replace(/[A-Za-z0-9+/](=+)$/, 'A$1'),
      ` ${value}`,
      '',
    ),
  );

const nameLike = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/) },
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,33}$/),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'bob', 'a b', 'é', 'x'.repeat(32)),
);
const algLike = fc.oneof(
  fc.constantFrom('X25519+AESGCM', 'DR-X3DH+AESGCM', 'a/b', 'x'.repeat(33), ''),
  fc.stringMatching(/^[A-Za-z0-9+._-]{1,33}$/),
);
const idLike = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,65}$/),
  fc.constantFrom('m.1', '', 'x'.repeat(64)),
);

type Field = [key: string, json: string];

/** JSON of a string, sometimes with one character written as a `\u` escape. */
const jsonString = (value: string) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(JSON.stringify(value)) },
    fc.nat({ max: Math.max(0, value.length - 1) }).map((at) => {
      if (value.length === 0) return '""';
      const escaped = `\\u${value.charCodeAt(at).toString(16).padStart(4, '0')}`;
      return (
        JSON.stringify(value.slice(0, at)).slice(0, -1) +
        escaped +
        JSON.stringify(value.slice(at + 1)).slice(1)
      );
    }),
  );

const fieldOf = (key: string, value: fc.Arbitrary<string>) =>
  value.chain((v) => jsonString(v)).map((json): Field => [key, json]);

/** The fields of a relay, canonical order, optional ones sometimes present. */
const relayFields = fc
  .record({
    to: fieldOf('to', nameLike),
    alg: fieldOf('alg', algLike),
    header: fc.option(fieldOf('header', b64Of(0, 40).chain(bentB64)), { nil: undefined }),
    nonce: fieldOf(
      'nonce',
      fc.oneof({ weight: 6, arbitrary: b64Of(12, 12) }, b64Of(11, 13)).chain(bentB64),
    ),
    cipher: fieldOf('cipher', b64Of(14, 60).chain(bentB64)),
    id: fc.option(fieldOf('id', idLike), { nil: undefined }),
  })
  .map((f) => {
    const fields: Field[] = [['type', '"relay"'], f.to, f.alg];
    if (f.header) fields.push(f.header);
    fields.push(f.nonce, f.cipher);
    if (f.id) fields.push(f.id);
    return fields;
  });

const extraField: fc.Arbitrary<Field> = fc.oneof(
  fc.constantFrom<Field>(
    ['from', '"alice"'],
    ['from', '"mallory"'],
    ['__proto__', '{"x":1}'],
    ['__proto__', '"x"'],
    ['constructor', '1'],
    ['extra', 'null'],
    ['id', 'null'],
    ['header', 'null'],
    ['type', '"chat"'],
    ['to', '"carol"'],
    ['cipher', '"AAAAAAAAAAAAAAAAAAAAAA=="'],
    ['nonce', '"AQEBAQEBAQEBAQEB"'],
    ['to', '1'],
  ),
);

/** `value` one time in five, else undefined. */
const rarely = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, value);

/** A relay line as bytes: canonical, or bent in one or more ways. */
export const relayLine: fc.Arbitrary<Uint8Array> = fc
  .record({
    fields: relayFields,
    extras: fc.oneof(
      { weight: 3, arbitrary: fc.constant([] as Array<[Field, number]>) },
      fc.array(fc.tuple(extraField, fc.nat()), { minLength: 1, maxLength: 2 }),
    ),
    swap: rarely(fc.tuple(fc.nat(), fc.nat())),
    space: rarely(fc.tuple(fc.nat(), fc.constantFrom(' ', '\t', '\n ', '\r'))),
    tail: fc.oneof(
      { weight: 10, arbitrary: fc.constant('') },
      fc.constantFrom('\r', ' ', '}', '\n'),
    ),
  })
  .map(({ fields, extras, swap, space, tail }) => {
    const list = [...fields];
    for (const [field, at] of extras) list.splice(at % (list.length + 1), 0, field);
    if (swap) {
      const a = swap[0] % list.length;
      const b = swap[1] % list.length;
      [list[a], list[b]] = [list[b]!, list[a]!];
    }
    let text = `{${list.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}${tail}`;
    if (space) {
      const at = space[0] % (text.length + 1);
      text = text.slice(0, at) + space[1] + text.slice(at);
    }
    return new Uint8Array(Buffer.from(text, 'utf8'));
  });

export type SlowOutcome =
  | { ok: true; line: string; from: unknown; to: string; id: string | undefined; cipher: number }
  | { ok: false; code: string };

/** What the slow path (full parser, `encodeRelayDelivery`) does with `line` from `from`. */
export function slowPath(line: Uint8Array, from: string): SlowOutcome {
  try {
    const raw = decodeJsonLine(line);
    const frame = parseClientFrame(raw);
    if (frame.type !== 'relay') return { ok: false, code: `not a relay: ${frame.type}` };
    return {
      ok: true,
      line: encodeRelayDelivery(from, frame),
      from: raw.from,
      to: frame.to,
      id: frame.id,
      cipher: frame.cipher.length,
    };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, code: error.code };
    throw error;
  }
}

/** The delivered line as its recipient's client reads it. */
export const delivered = (line: string) =>
  readRelayDelivery(decodeJsonLine(Buffer.from(line.slice(0, -1), 'latin1')));

/**
 * The property: the fast path takes a line only when the slow path accepts it without a
 * client `from`, and then delivers exactly the slow path's line (byte for byte, so parsing
 * it gives the same delivery); every line it does not take goes to the slow path, which
 * accepts or refuses it as before.
 */
export function fastMatchesSlow(line: Uint8Array, from = 'alice'): void {
  const fast = readCanonicalRelay(line);
  const slow = slowPath(line, from);
  if (!fast) return;
  if (!slow.ok) throw new Error(`fast path took a line the slow path refuses (${slow.code})`);
  if (slow.from !== undefined) throw new Error('fast path took a client-supplied from');
  const spliced = fast.deliveryLine(from);
  if (spliced !== slow.line) throw new Error(`spliced ${spliced} != ${slow.line}`);
  if (JSON.stringify(delivered(spliced)) !== JSON.stringify(delivered(slow.line)))
    throw new Error('parsed deliveries differ');
  if (fast.to !== slow.to || fast.id !== slow.id || fast.cipherLength !== slow.cipher)
    throw new Error('routing fields differ');
}
