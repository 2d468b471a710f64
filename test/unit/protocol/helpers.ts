import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProtocolError } from '../../../src/protocol/index.js';

/** Bytes of a hex string (vectors are written in lowercase hex). */
export const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));
/** Lowercase hex of bytes. */
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** UTF-8 bytes of a string. */
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** it.each rows `[label, case]`, so the label can be printed with `%s` and the case typed. */
export const table = <T>(list: T[], label: (c: T, i: number) => string | number) =>
  list.map((c, i) => [label(c, i), c] as [string | number, T]);

/**
 * The `code` of the ProtocolError `fn` throws, or undefined when it returns normally.
 * Anything thrown that is not a ProtocolError fails the test (it is rethrown).
 */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return undefined;
}

/** Reads one of the project's own vector files, test/vectors/<name>. */
export function loadVector(name: string): any {
  return JSON.parse(readFileSync(new URL(`../../vectors/${name}`, import.meta.url), 'utf8'));
}

/**
 * The Wycheproof folder sits beside the repository (../shared/vectors/wycheproof from the
 * repository root, in CI too); it is never copied into the project.
 */
export const WYCHEPROOF_DIR = new URL('../../../../shared/vectors/wycheproof/', import.meta.url);

/** Reads a Wycheproof JSON file; fails loudly (with the path) when the folder is missing. */
export function loadWycheproof(name: string): any {
  const url = new URL(name, WYCHEPROOF_DIR);
  if (!existsSync(url)) {
    throw new Error(`Wycheproof vectors not found at ${fileURLToPath(url)}`);
  }
  return JSON.parse(readFileSync(url, 'utf8'));
}
