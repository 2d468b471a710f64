import { describe, expect, it } from 'vitest';
import {
  decodeJsonLine,
  ErrorCode,
  idOfLine,
  isValidAlg,
  isValidName,
  isValidRoom,
  MAX_ALG_LENGTH,
  MAX_CAP_LENGTH,
  MAX_MESSAGE_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PROTOCOL_VERSION,
  parseClientFrame,
  readCaps,
  readVersion,
  refOfLine,
} from '../../../src/protocol/index.js';

/** The field readers take their bounds from limits.ts: exactly at the limit passes, one past fails. */
describe('limits.ts bounds the field readers', () => {
  it('names, rooms and algs', () => {
    expect(isValidName('a'.repeat(MAX_NAME_LENGTH))).toBe(true);
    expect(isValidName('a'.repeat(MAX_NAME_LENGTH + 1))).toBe(false);
    expect(isValidRoom(`#${'a'.repeat(MAX_NAME_LENGTH)}`)).toBe(true);
    expect(isValidRoom(`#${'a'.repeat(MAX_NAME_LENGTH + 1)}`)).toBe(false);
    expect(isValidAlg('A'.repeat(MAX_ALG_LENGTH))).toBe(true);
    expect(isValidAlg('A'.repeat(MAX_ALG_LENGTH + 1))).toBe(false);
  });

  it('message ids found in a broken line', () => {
    const id = 'i'.repeat(MAX_MESSAGE_ID_LENGTH);
    expect(idOfLine(Buffer.from(`{"id" : "${id}", "x":`))).toBe(id);
    expect(idOfLine(Buffer.from(`{"id":"${id}i"}`))).toBeUndefined();
  });

  it('the ref of a dropped line: its id, else the file of a file control line', () => {
    const file = '0f'.repeat(16);
    expect(refOfLine(Buffer.from(`{"type":"fstat","file":"${file}"}`))).toBe(file);
    expect(refOfLine(Buffer.from(`{"type":"fdone","file" : "${file}","cap":"x"}`))).toBe(file);
    expect(refOfLine(Buffer.from(`{"type":"fnew","id":"n1","file":"${file}"}`))).toBe('n1');
    // only a safe file id: 32 lower-case hex digits, nothing else
    expect(refOfLine(Buffer.from(`{"type":"fstat","file":"${file.toUpperCase()}"}`))).toBe(
      undefined,
    );
    expect(refOfLine(Buffer.from(`{"type":"fstat","file":"${file}0"}`))).toBeUndefined();
    expect(refOfLine(Buffer.from(`{"type":"fstat","file":"\u001b[2J"}`))).toBeUndefined();
  });

  it('capability names and protocol versions', () => {
    expect(readCaps(['c'.repeat(MAX_CAP_LENGTH)])).toEqual(['c'.repeat(MAX_CAP_LENGTH)]);
    expect(() => readCaps(['c'.repeat(MAX_CAP_LENGTH + 1)])).toThrow();
    expect(readVersion(MAX_PROTOCOL_VERSION)).toBe(MAX_PROTOCOL_VERSION);
    expect(() => readVersion(MAX_PROTOCOL_VERSION + 1)).toThrow(/"v"/);
  });
});

describe('names that frames may not use as keys', () => {
  it('are refused: a user called "constructor" would break every directory frame', () => {
    for (const user of ['__proto__', 'constructor', 'prototype']) {
      expect(isValidName(user)).toBe(false);
      expect(() =>
        parseClientFrame({ type: 'hello', user, pub: Buffer.alloc(32, 1).toString('base64') }),
      ).toThrow(expect.objectContaining({ code: ErrorCode.BAD_NAME }));
      expect(() => decodeJsonLine(Buffer.from(`{"type":"users","users":{"${user}":"x"}}`))).toThrow(
        expect.objectContaining({ code: ErrorCode.FORBIDDEN_KEY }),
      );
    }
    expect(isValidName('Constructor')).toBe(true); // only the exact keys are forbidden
  });
});
