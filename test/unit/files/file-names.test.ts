import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  displayFileName,
  formatBytes,
  MAX_SAVED_NAME_BYTES,
  numberedFileName,
  safeFileName,
} from '../../../src/protocol/index.js';

const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff/\\<>:"|?*]/u;

describe('safeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../.bashrc', 'bashrc'],
    ['..\\..\\windows\\system32\\evil.dll', 'evil.dll'],
    ['/etc/passwd', 'passwd'],
    ['..', 'file'],
    ['.', 'file'],
    ['', 'file'],
    ['   ', 'file'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['LPT1.tar.gz', '_LPT1.tar.gz'],
    ['COM9', '_COM9'],
    ['console', 'console'],
    ['a\u202egpj.exe', 'agpj.exe'],
    ['a\u200bb\u2066c.txt', 'abc.txt'],
    ['x\u001b[31mred.txt', 'x[31mred.txt'],
    ['bell\u0007\u009b.txt', 'bell.txt'],
    ['trailing. . ', 'trailing'],
    ['a:b*c?.txt', 'abc.txt'],
    ['nul\u0000/evil', 'evil'],
  ])('%j → %j', (input, expected) => {
    expect(safeFileName(input)).toBe(expected);
  });

  it('caps a 10,000-character name to the byte limit and keeps the extension', () => {
    const name = `${'x'.repeat(10_000)}.pdf`;
    const safe = safeFileName(name);
    expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(MAX_SAVED_NAME_BYTES);
    expect(safe.endsWith('.pdf')).toBe(true);
    const wide = safeFileName('é'.repeat(10_000));
    expect(Buffer.byteLength(wide)).toBeLessThanOrEqual(MAX_SAVED_NAME_BYTES);
    expect(wide).toMatch(/^é+$/);
  });

  it('always gives a non-empty single component without unsafe characters (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (name) => {
        const safe = safeFileName(name);
        expect(safe.length).toBeGreaterThan(0);
        expect(UNSAFE.test(safe)).toBe(false);
        expect(safe.startsWith('.')).toBe(false);
        expect(safe === '..' || safe === '.').toBe(false);
        expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(MAX_SAVED_NAME_BYTES);
        expect(safeFileName(safe)).toBe(safe);
      }),
      { numRuns: 150 },
    );
  });
});

describe('numberedFileName, displayFileName, formatBytes', () => {
  it('numbers before the extension and stays within the limit', () => {
    expect(numberedFileName('report.pdf', 1)).toBe('report (1).pdf');
    expect(numberedFileName('archive', 12)).toBe('archive (12)');
    const long = safeFileName(`${'y'.repeat(500)}.txt`);
    expect(Buffer.byteLength(numberedFileName(long, 3))).toBeLessThanOrEqual(MAX_SAVED_NAME_BYTES);
  });

  it('shortens names for display', () => {
    expect(displayFileName('a'.repeat(200), 10)).toBe(`${'a'.repeat(9)}…`);
    expect(displayFileName('ok.txt')).toBe('ok.txt');
  });

  it('formats sizes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(2_300_000)).toBe('2.3 MB');
    expect(formatBytes(1_000_000_000)).toBe('1.0 GB');
  });
});
