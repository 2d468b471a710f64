import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { BatchedWriter } from './batched-writer.js';
import type { Clock } from './clock.js';
import type { Remote } from './tls-listener.js';
import type { Transport } from './transport.js';

/**
 * Adapts a TLS socket to the session's {@link Transport}: batched writes, input pausing,
 * drain notification, and a close that stops reading at once and destroys the socket if
 * the peer has not let go within `close.graceMs` (a client refused for a fatal error must
 * not keep the server reading and decrypting).
 */
export function socketTransport(
  socket: TLSSocket,
  raw: Socket,
  remote: Remote,
  addressKey: string | undefined,
  close: { graceMs: number; clock: Clock },
): Transport {
  const display = remote.address.includes(':')
    ? `[${remote.address}]:${remote.port}`
    : `${remote.address}:${remote.port}`;
  const writer = new BatchedWriter(socket);
  return {
    remote: display,
    remoteAddress: remote.address,
    addressKey,
    get writableLength() {
      return writer.writableLength;
    },
    get bytesRead() {
      return raw.bytesRead;
    },
    write: (data) => {
      if (typeof data === 'string') writer.write(data);
      else {
        writer.flush();
        socket.write(data);
      }
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    whenDrained: (callback) => {
      writer.flush();
      if (socket.destroyed) return;
      if (socket.writableNeedDrain) socket.once('drain', callback);
      else setImmediate(callback); // the next turn, as 'drain' would be: not a timeout
    },
    end: () => {
      socket.pause();
      writer.flush();
      socket.end();
      close.clock.setTimeout(() => socket.destroy(), close.graceMs);
    },
    destroy: () => {
      writer.discard();
      socket.destroy();
    },
    exportKeyingMaterial: (length, label, context) =>
      socket.exportKeyingMaterial(length, label, Buffer.from(context ?? [])),
  };
}
