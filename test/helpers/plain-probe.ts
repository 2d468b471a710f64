import { connect as netConnect, type Socket } from 'node:net';

/**
 * Sends `bytes` over plain TCP to `port` on loopback; resolves with everything the server
 * answered before it closed. The socket goes into `sockets`, for the test to destroy.
 */
export function plainProbe(
  port: number,
  bytes: string | Buffer,
  sockets: Socket[],
): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    sockets.push(socket);
    const parts: Buffer[] = [];
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => parts.push(chunk));
    socket.once('close', () => resolve(Buffer.concat(parts).toString('latin1')));
    socket.write(bytes);
  });
}
