import { randomBytes } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { CHUNK_BODY_RULE, RawBody, StreamDecoder } from '../../src/protocol/index.js';

export interface RawClientOptions {
  port: number;
  certPem: string;
  host?: string;
  /** Source address (any of 127.0.0.0/8 is loopback on Linux). */
  localAddress?: string;
}

/**
 * A bare TLS line client for integration tests: sends arbitrary bytes, collects every
 * received line, and waits for frames matching a predicate (bounded by a timeout).
 */
export class RawClient {
  readonly socket: TLSSocket;
  readonly frames: Array<Record<string, unknown>> = [];
  readonly received: Buffer[] = [];
  #buffer = '';
  #waiters: Array<{
    test: (f: Record<string, unknown>) => boolean;
    resolve: (f: Record<string, unknown>) => void;
  }> = [];
  closed: Promise<void>;

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(options: RawClientOptions): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: options.host ?? '127.0.0.1',
        port: options.port,
        ca: [options.certPem],
        checkServerIdentity: () => undefined,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      });
      socket.once('secureConnect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects and completes a v1 hello; resolves once the welcome arrived. */
  static async hello(
    options: RawClientOptions & { user: string; pub?: string },
  ): Promise<RawClient> {
    const client = await RawClient.connect(options);
    client.send({
      type: 'hello',
      user: options.user,
      pub: options.pub ?? randomBytes(32).toString('base64'),
    });
    await client.next((f) => f.type === 'welcome');
    return client;
  }

  send(frame: object | string | Buffer): void {
    if (Buffer.isBuffer(frame)) this.socket.write(frame);
    else this.socket.write(typeof frame === 'string' ? frame : `${JSON.stringify(frame)}\n`);
  }

  /** Resolves with the first frame (already received or future) matching `test`. */
  next(
    test: (frame: Record<string, unknown>) => boolean,
    timeoutMs = 5000,
  ): Promise<Record<string, unknown>> {
    const found = this.frames.find(test);
    if (found) {
      this.frames.splice(this.frames.indexOf(found), 1);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (frame: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for a frame; have ${JSON.stringify(this.frames)}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /**
   * A barrier: sends `ping` and resolves on its `pong`. The server handles one client's
   * frames in order and writes to a socket in order, so once the pong is here every frame
   * the server wrote to this client before it has arrived too. To prove that an action of
   * another client sent nothing here: `await other.sync(); await this.sync()`, then look.
   */
  async sync(timeoutMs = 5000): Promise<void> {
    this.send({ type: 'ping' });
    await this.next((f) => f.type === 'pong', timeoutMs);
  }

  /** Waits for an error frame with `code`. */
  error(code: string, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.next((f) => f.type === 'error' && f.code === code, timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }

  /**
   * From now on, read `fchunkb` headers with their raw bodies (binary chunk mode, for a
   * client that announced `fbin`): the body is the frame's `body` (a Buffer).
   */
  binaryChunks(): void {
    this.#stream = new StreamDecoder(1 << 20);
    this.#stream.enableBodies(CHUNK_BODY_RULE);
    if (this.#buffer) {
      const rest = Buffer.from(this.#buffer, 'utf8');
      this.#buffer = '';
      this.#onData(rest, false);
    }
  }
  #stream: StreamDecoder | undefined;

  #onData(chunk: Buffer, record = true): void {
    if (record) this.received.push(chunk);
    if (this.#stream) {
      for (const item of this.#stream.push(chunk)) {
        if (item instanceof RawBody) {
          const last = this.#last!;
          last.body = Buffer.from(item.bytes);
          this.#deliver(last);
          this.#last = undefined;
          continue;
        }
        const frame = JSON.parse(Buffer.from(item).toString('utf8')) as Record<string, unknown>;
        if (frame.type === 'fchunkb') this.#last = frame;
        else this.#deliver(frame);
      }
      return;
    }
    this.#buffer += chunk.toString('utf8');
    let newline = this.#buffer.indexOf('\n');
    while (newline !== -1) {
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      newline = this.#buffer.indexOf('\n');
      if (!line) continue;
      this.#deliver(JSON.parse(line) as Record<string, unknown>);
    }
  }
  #last: Record<string, unknown> | undefined;

  #deliver(frame: Record<string, unknown>): void {
    const waiter = this.#waiters.find((w) => w.test(frame));
    if (waiter) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(frame);
    } else {
      this.frames.push(frame);
    }
  }
}

export function randomPub(): string {
  return randomBytes(32).toString('base64');
}

/**
 * Barrier over several clients, in order: each one's earlier frames are handled (and what
 * they caused written) before the next one's pong. Use it instead of sleep-then-expect-nothing.
 */
export async function barrier(...clients: RawClient[]): Promise<void> {
  for (const client of clients) await client.sync();
}

/** A hand-moved clock for the server (`deps.now`): expiries are tested by moving it. */
export class TestClock {
  #now: number;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }
  readonly now = (): number => this.#now;
  advance(ms: number): void {
    this.#now += ms;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
