import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import {
  decodeJsonLine,
  type ParsedServerFrame,
  parseServerFrame,
} from '../../src/protocol/index.js';
import type { Transport } from '../../src/server/transport.js';

/**
 * A transport that records what a session writes and never throws: drives the session
 * state machine without sockets (fuzzers, delayed-store races).
 */
export class FakeTransport implements Transport {
  readonly remote: string;
  readonly remoteAddress: string;
  readonly addressKey: string;
  readonly writableLength = 0;
  readonly bytesRead = 0;
  written: string[] = [];
  closedBy: 'end' | 'destroy' | undefined;
  #exporterSeed: string;

  constructor(address: string, exporterSeed: string) {
    this.remoteAddress = address;
    this.addressKey = address;
    this.remote = `${address}:1`;
    this.#exporterSeed = exporterSeed;
  }
  write(data: string | Uint8Array): void {
    this.written.push(typeof data === 'string' ? data : Buffer.from(data).toString('latin1'));
  }
  pause(): void {}
  resume(): void {}
  whenDrained(callback: () => void): void {
    setImmediate(callback);
  }
  end(): void {
    this.closedBy ??= 'end';
  }
  destroy(): void {
    this.closedBy ??= 'destroy';
  }
  /** A stand-in for RFC 5705: stable per connection, different between connections. */
  exportKeyingMaterial(length: number, label: string): Uint8Array {
    return createHash('sha256')
      .update(`${this.#exporterSeed}|${label}`)
      .digest()
      .subarray(0, length);
  }
  /**
   * Every line written, checked: pure ASCII (the server writes latin1), and a frame the
   * protocol's own client-side parser accepts as a known server frame.
   */
  frames(): ParsedServerFrame[] {
    const text = this.written.join('');
    expect(text).toMatch(/^[\x00-\x7f]*$/);
    if (text.length > 0) expect(text.endsWith('\n')).toBe(true);
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const frame = parseServerFrame(decodeJsonLine(Buffer.from(line, 'latin1')));
        expect(frame.type).not.toBe('unknown');
        return frame;
      });
  }
}

/** A transport recording plain writes and lent writes (whose callbacks the test runs). */
export function recordingTransport(canLend: boolean) {
  const writes: Array<string | Uint8Array> = [];
  const lends: Array<{ header: string; body: Uint8Array; written: () => void }> = [];
  const transport: Transport = {
    remote: '10.0.0.1:1',
    remoteAddress: '10.0.0.1',
    addressKey: '10.0.0.1',
    bytesRead: 0,
    writableLength: 0,
    write: (data) => void writes.push(data),
    pause() {},
    resume() {},
    whenDrained: (callback) => callback(),
    end() {},
    destroy() {},
    ...(canLend
      ? {
          writeLent: (header: string, body: Uint8Array, written: () => void) =>
            void lends.push({ header, body, written }),
        }
      : {}),
  };
  return { transport, writes, lends };
}
