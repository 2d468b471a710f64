import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/server/clock.js';
import { attachSession, socketTransport } from '../../../src/server/socket-transport.js';

/** The parts of a TLS socket the transport uses, recording what it was asked. */
class FakeSocket extends EventEmitter {
  calls: string[] = [];
  written: Array<string | Uint8Array> = [];
  destroyed = false;
  writableLength = 0;
  writableNeedDrain = false;
  bytesRead = 42;
  write(data: string | Uint8Array, encoding?: string): boolean {
    this.calls.push(`write:${encoding ?? 'bytes'}`);
    this.written.push(data);
    return true;
  }
  setKeepAlive(enable: boolean, delay: number) {
    this.calls.push(`keepalive:${enable}:${delay}`);
  }
  pause() {
    this.calls.push('pause');
  }
  resume() {
    this.calls.push('resume');
  }
  end() {
    this.calls.push('end');
  }
  destroy() {
    this.calls.push('destroy');
    this.destroyed = true;
  }
  exportKeyingMaterial(length: number, label: string, context: Buffer): Buffer {
    this.calls.push(`export:${length}:${label}:${context.length}`);
    return Buffer.alloc(length, 1);
  }
}

function manualClock(): Clock & { fire(): void } {
  const timers: Array<() => void> = [];
  return {
    now: () => 0,
    setTimeout: (callback) => timers.push(callback),
    clearTimeout: () => {},
    setInterval: () => 0,
    clearInterval: () => {},
    fire: () => {
      for (const timer of timers.splice(0)) timer();
    },
  };
}

function open(address = '127.0.0.1', shared = false) {
  const key = shared ? undefined : address;
  const socket = new FakeSocket();
  const clock = manualClock();
  const transport = socketTransport(
    socket as unknown as TLSSocket,
    socket as unknown as Socket,
    { address, port: 5000 },
    key,
    { graceMs: 1000, clock },
  );
  return { socket, clock, transport };
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));

describe('socketTransport', () => {
  it('names the peer ip:port, IPv6 in brackets, and keeps its address and limit key', () => {
    const v4 = open('203.0.113.9');
    expect(v4.transport.remote).toBe('203.0.113.9:5000');
    expect(v4.transport.remoteAddress).toBe('203.0.113.9');
    expect(v4.transport.addressKey).toBe('203.0.113.9');
    const v6 = open('2001:db8::1', true);
    expect(v6.transport.remote).toBe('[2001:db8::1]:5000');
    expect(v6.transport.addressKey).toBeUndefined();
    expect(v6.transport.bytesRead).toBe(42);
  });

  it('sets TCP keepalive only when asked (after a v1 hello), with the documented 60 s idle', () => {
    const { socket, transport } = open();
    expect(socket.calls).toEqual([]);
    transport.keepAlive?.();
    expect(socket.calls).toEqual(['keepalive:true:60000']);
  });

  it('joins the lines of one turn into one latin1 write; bytes flush what was queued first', async () => {
    const { socket, transport } = open();
    transport.write('a\n');
    transport.write('b\n');
    expect(transport.writableLength).toBe(4);
    expect(socket.written).toEqual([]);
    await tick();
    expect(socket.written).toEqual(['a\nb\n']);
    expect(socket.calls).toEqual(['write:latin1']);
    transport.write('c\n');
    transport.write(Uint8Array.of(1, 2));
    expect(socket.written.slice(1)).toEqual(['c\n', Uint8Array.of(1, 2)]);
    await tick();
    expect(socket.written).toHaveLength(3);
  });

  it('end: stops reading, flushes, ends, and destroys once the grace period passed', () => {
    const { socket, clock, transport } = open();
    transport.write('bye\n');
    transport.end();
    expect(socket.calls).toEqual(['pause', 'write:latin1', 'end']);
    clock.fire();
    expect(socket.calls.at(-1)).toBe('destroy');
  });

  it('destroy drops what this turn queued', async () => {
    const { socket, transport } = open();
    transport.write('lost\n');
    transport.destroy();
    await tick();
    expect(socket.written).toEqual([]);
    expect(socket.calls).toEqual(['destroy']);
  });

  it('whenDrained: next turn when nothing waits, on drain otherwise, never when destroyed', async () => {
    const { socket, transport } = open();
    const seen: string[] = [];
    transport.whenDrained(() => seen.push('idle'));
    socket.writableNeedDrain = true;
    transport.whenDrained(() => seen.push('drain'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['idle']);
    socket.emit('drain');
    expect(seen).toEqual(['idle', 'drain']);
    socket.destroyed = true;
    transport.whenDrained(() => seen.push('never'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['idle', 'drain']);
  });

  it('pause, resume and the keying-material exporter go to the TLS socket', () => {
    const { socket, transport } = open();
    transport.pause();
    transport.resume();
    expect(transport.exportKeyingMaterial?.(32, 'label')).toEqual(Buffer.alloc(32, 1));
    expect(socket.calls).toEqual(['pause', 'resume', 'export:32:label:0']);
  });
});

describe('attachSession', () => {
  it('feeds reads to the session, and on close lets go of it and reports the close once', () => {
    const socket = new EventEmitter();
    const received: string[] = [];
    let closed = 0;
    attachSession(
      socket as unknown as Parameters<typeof attachSession>[0],
      { receive: (chunk) => received.push(Buffer.from(chunk).toString()) },
      () => closed++,
    );
    socket.emit('data', Buffer.from('one'));
    socket.emit('data', Buffer.from('two'));
    expect(received).toEqual(['one', 'two']);
    expect(socket.listenerCount('data')).toBe(1);
    socket.emit('close');
    expect(closed).toBe(1);
    // Nothing of the session stays on the socket (Node keeps closed sockets until a full GC).
    expect(socket.listenerCount('data')).toBe(0);
    expect(socket.listenerCount('close')).toBe(0);
    socket.emit('data', Buffer.from('late'));
    socket.emit('close');
    expect(received).toEqual(['one', 'two']);
    expect(closed).toBe(1);
  });
});
