import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { decodeJsonLine, LineDecoder, ProtocolError } from '../../../src/protocol/index.js';

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
 * repository root, in CI too); it is never copied into the project. Also found from a
 * throwaway clone of a local checkout (beside the clone's origin), or through
 * SECURECHAT_SHARED_DIR.
 */
export const WYCHEPROOF_DIR = findWycheproof();

function findWycheproof(): URL {
  const beside = new URL('../../../../shared/vectors/wycheproof/', import.meta.url);
  const candidates = [beside];
  const shared = process.env.SECURECHAT_SHARED_DIR;
  if (shared) candidates.unshift(pathToFileURL(join(shared, 'vectors/wycheproof/')));
  try {
    const origin = execFileSync('git', ['config', '--get', 'remote.origin.url'], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (isAbsolute(origin))
      candidates.push(pathToFileURL(join(resolve(origin), '..', 'shared/vectors/wycheproof/')));
  } catch {
    // not a git checkout, or no origin: only the other places count
  }
  return candidates.find((url) => existsSync(url)) ?? beside;
}

/** Reads a Wycheproof JSON file; fails loudly (with the path) when the folder is missing. */
export function loadWycheproof(name: string): any {
  const url = new URL(name, WYCHEPROOF_DIR);
  if (!existsSync(url)) {
    throw new Error(`Wycheproof vectors not found at ${fileURLToPath(url)}`);
  }
  return JSON.parse(readFileSync(url, 'utf8'));
}

/** What a stream decodes to: each line's bytes and frame (or error), then any fatal error. */
export interface Transcript {
  lines: string[];
  frames: unknown[];
  fatal?: string;
}

/**
 * Feeds `chunks` to a fresh decoder and decodes every line, as a session does. Checks the
 * fatal-error contract on the way: after the first fatal error the decoder is dead and
 * every later push throws that same error.
 */
export function decodeChunks(chunks: Uint8Array[], maxLineBytes: number): Transcript {
  const decoder = new LineDecoder(maxLineBytes);
  const transcript: Transcript = { lines: [], frames: [] };
  let fatal: ProtocolError | undefined;
  const take = (lines: Uint8Array[]) => {
    for (const line of lines) {
      transcript.lines.push(toHex(line));
      try {
        transcript.frames.push(decodeJsonLine(line));
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
        expect((error as ProtocolError).fatal).toBe(false);
        transcript.frames.push({ error: (error as ProtocolError).code });
      }
    }
  };
  for (const chunk of [...chunks, new Uint8Array(0)]) {
    if (fatal) {
      expect(() => decoder.push(chunk)).toThrow(fatal);
      continue;
    }
    try {
      take(decoder.push(chunk));
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      fatal = error as ProtocolError;
    }
  }
  expect(decoder.dead).toBe(fatal !== undefined);
  if (fatal) {
    expect(fatal.fatal).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
    expect(() => decoder.push(utf8('{"type":"list"}\n'))).toThrow(fatal);
    transcript.fatal = fatal.code;
  }
  return transcript;
}
