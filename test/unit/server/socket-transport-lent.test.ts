import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { socketTransport } from '../../../src/server/socket-transport.js';

/** The socket calls writeLent makes, with each write's callback kept for the test to run. */
class FakeSocket extends EventEmitter {
  calls: string[] = [];
  written: Array<string | Uint8Array> = [];
  callbacks: Array<() => void> = [];
  destroyed = false;
  writableEnded = false;
  writableLength = 0;
  cork() {
    this.calls.push('cork');
  }
  uncork() {
    this.calls.push('uncork');
  }
  write(data: string | Uint8Array, encoding?: string | (() => void), callback?: () => void) {
    this.calls.push(`write:${typeof encoding === 'string' ? encoding : 'bytes'}`);
    this.written.push(data);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) this.callbacks.push(done);
    return true;
  }
  destroy() {
    this.destroyed = true;
  }
}

function open() {
  const socket = new FakeSocket();
  const clock = {
    now: () => 0,
    setTimeout: () => 0,
    clearTimeout: () => {},
    setInterval: () => 0,
    clearInterval: () => {},
  };
  const transport = socketTransport(
    socket as unknown as TLSSocket,
    socket as unknown as Socket,
    { address: '127.0.0.1', port: 1 },
    '127.0.0.1',
    { graceMs: 1000, clock },
  );
  return { socket, transport };
}

describe('SocketTransport.writeLent', () => {
  it('flushes queued lines, corks header and body into one write, and reports from the write callback', () => {
    const { socket, transport } = open();
    transport.write('line\n');
    const body = Uint8Array.of(1, 2, 3);
    let written = 0;
    transport.writeLent?.('H\n', body, () => written++);
    expect(socket.calls).toEqual(['write:latin1', 'cork', 'write:latin1', 'write:bytes', 'uncork']);
    expect(socket.written[0]).toBe('line\n');
    expect(socket.written[1]).toBe('H\n');
    expect(socket.written[2] === body).toBe(true); // the caller's bytes, not a copy
    expect(written).toBe(0); // not before the socket is done with them
    expect(socket.callbacks).toHaveLength(1);
    socket.callbacks[0]!();
    expect(written).toBe(1);
  });

  it('gives the body back at once on a destroyed socket, writing nothing', () => {
    const { socket, transport } = open();
    socket.destroyed = true;
    let written = 0;
    transport.writeLent?.('H\n', Uint8Array.of(1), () => written++);
    expect(written).toBe(1);
    expect(socket.written).toEqual([]);
  });
});
