import {
  type ClientFrame,
  decodeJsonLine,
  ErrorCode,
  encodeRelayDelivery,
  LineDecoder,
  ProtocolError,
  parseClientFrame,
  type RelayFrame,
} from '../protocol/index.js';
import type { DirectoryMember, PeerDirectory } from './directory.js';
import type { Logger } from './logger.js';
import type { PresenceBroadcaster } from './presence.js';
import type { Transport } from './transport.js';

export interface SessionLimits {
  maxLineBytes: number;
  helloTimeoutMs: number;
  /** Queued bytes above which a reader counts as too slow and is dropped. */
  maxSendQueueBytes: number;
}

export interface SessionContext {
  directory: PeerDirectory<Session>;
  presence: PresenceBroadcaster<Session>;
  logger: Logger;
  limits: SessionLimits;
}

export type SessionState = 'awaiting-hello' | 'ready' | 'closed';

/** Outcome of offering a line to a recipient. */
export type SendResult = 'queued' | 'slow-reader' | 'closed';

/**
 * One client connection: decodes its lines, validates frames, and runs the
 * hello → ready → closed state machine. Owns its decoder, its logger and its timers;
 * never touches a socket directly (see Transport).
 */
export class Session implements DirectoryMember {
  readonly id: string;
  #transport: Transport;
  #ctx: SessionContext;
  #decoder: LineDecoder;
  #logger: Logger;
  #state: SessionState = 'awaiting-hello';
  #helloTimer: NodeJS.Timeout | undefined;
  #name = '';
  #pub = '';
  #wantsUserFrames = true;

  constructor(id: string, transport: Transport, ctx: SessionContext) {
    this.id = id;
    this.#transport = transport;
    this.#ctx = ctx;
    this.#decoder = new LineDecoder(ctx.limits.maxLineBytes);
    this.#logger = ctx.logger.child({ sid: id, remote: transport.remote });
    this.#helloTimer = setTimeout(() => this.#helloTimedOut(), ctx.limits.helloTimeoutMs);
    this.#helloTimer.unref?.();
    this.#logger.info({ event: 'connection.opened' });
  }

  get state(): SessionState {
    return this.#state;
  }
  get name(): string {
    return this.#name;
  }
  get pub(): string {
    return this.#pub;
  }
  get wantsUserFrames(): boolean {
    return this.#wantsUserFrames;
  }

  /** Feeds bytes read from the connection. Never throws. */
  receive(chunk: Uint8Array): void {
    if (this.#state === 'closed') return;
    let lines: Uint8Array[];
    try {
      lines = this.#decoder.push(chunk);
    } catch (error) {
      this.#reject(error);
      return;
    }
    for (const line of lines) {
      if ((this.#state as SessionState) === 'closed') return;
      this.#handleLine(line);
    }
  }

  /** Queues a line for this client, dropping the client if it stopped reading. */
  send(line: string): boolean {
    return this.offer(line) === 'queued';
  }

  /** Like {@link send}, but says why a line was not queued. */
  offer(line: string): SendResult {
    if (this.#state === 'closed') return 'closed';
    if (this.#transport.writableLength + line.length > this.#ctx.limits.maxSendQueueBytes) {
      this.#logger.warn(
        { event: 'slow_reader.dropped', queuedBytes: this.#transport.writableLength },
        'client stopped reading; disconnecting',
      );
      this.#close('slow reader', true);
      return 'slow-reader';
    }
    this.#transport.write(line);
    return 'queued';
  }

  /** Called by the listener when the connection is gone. */
  transportClosed(reason = 'connection closed'): void {
    this.#close(reason, false);
  }

  /** Server shutdown: tell the client, then close gracefully. */
  shutdown(): void {
    if (this.#state === 'closed') return;
    this.#sendError(ErrorCode.SHUTTING_DOWN, 'server is shutting down');
    this.#close('server shutdown', false);
    this.#transport.end();
  }

  #handleLine(line: Uint8Array): void {
    let frame: ClientFrame;
    let raw: Record<string, unknown> | undefined;
    try {
      raw = decodeJsonLine(line);
      frame = parseClientFrame(raw);
    } catch (error) {
      if (this.#state === 'awaiting-hello' && raw?.type !== 'hello') {
        // Anything but a (possibly malformed) hello before hello: not a client of ours.
        this.#reject(asFatal(error));
      } else {
        this.#reject(error, this.#state === 'awaiting-hello' ? undefined : idOf(line));
      }
      return;
    }
    if (this.#state === 'awaiting-hello') {
      if (frame.type === 'hello') this.#hello(frame.user, frame.pub);
      else
        this.#reject(
          new ProtocolError(ErrorCode.HELLO_REQUIRED, 'send hello first', { fatal: true }),
        );
      return;
    }
    switch (frame.type) {
      case 'relay':
        if (raw.from !== undefined && raw.from !== this.#name) {
          this.#logger.warn({ event: 'spoof.attempt', claimed: String(raw.from).slice(0, 64) });
        }
        this.#relay(frame);
        return;
      case 'chat':
        this.#logger.info({ event: 'chat', text: frame.text }, 'server-readable chat');
        this.send(`{"type":"server","text":${JSON.stringify(`echo: ${frame.text}`)}}\n`);
        return;
      case 'list':
        this.send(`{"type":"users","users":${this.#ctx.directory.usersJson()}}\n`);
        return;
      case 'hello':
        this.#reject(new ProtocolError(ErrorCode.ALREADY_HELLO, 'hello was already accepted'));
        return;
    }
  }

  #hello(name: string, pub: string): void {
    this.#name = name;
    this.#pub = pub;
    if (!this.#ctx.directory.tryAdd(this)) {
      const holder = this.#ctx.directory.get(name);
      this.#logger.warn(
        { event: 'hello.refused', reason: 'name_taken', user: name, holder: holder?.name },
        'name already online',
      );
      this.#name = '';
      this.#pub = '';
      this.#sendError(ErrorCode.NAME_TAKEN, `the name "${name}" is already online`);
      return;
    }
    clearTimeout(this.#helloTimer);
    this.#state = 'ready';
    this.#logger = this.#logger.child({ user: name });
    this.#logger.info({ event: 'hello.accepted', v: 1 });
    this.send(`{"type":"welcome","users":${this.#ctx.directory.usersJson()}}\n`);
    this.#ctx.presence.changed();
  }

  #relay(relay: RelayFrame): void {
    const target = this.#ctx.directory.get(relay.to);
    if (target === undefined) {
      this.#sendError(ErrorCode.PEER_OFFLINE, `${relay.to} is not online`, relay.id);
      return;
    }
    const result = target.offer(encodeRelayDelivery(this.#name, relay));
    if (result !== 'queued') {
      this.#sendError(
        ErrorCode.PEER_OFFLINE,
        result === 'slow-reader'
          ? `${relay.to} stopped reading and was disconnected`
          : `${relay.to} is not online`,
        relay.id,
      );
      return;
    }
    if (this.#logger.isLevelEnabled('debug')) {
      this.#logger.debug({ event: 'relay', to: target.name, bytes: relay.cipher.length });
    }
    if (relay.id !== undefined) this.send(`{"type":"ack","id":"${relay.id}"}\n`);
  }

  #reject(error: unknown, ref?: string): void {
    const protocolError =
      error instanceof ProtocolError
        ? error
        : new ProtocolError(ErrorCode.INTERNAL, 'internal error', { cause: error, fatal: true });
    if (protocolError.code === ErrorCode.INTERNAL) {
      this.#logger.error({ event: 'internal_error', err: error }, 'unexpected error in session');
    } else {
      this.#logger.warn(
        { event: 'frame.rejected', code: protocolError.code, fatal: protocolError.fatal },
        protocolError.message,
      );
    }
    this.#sendError(protocolError.code, protocolError.message, ref);
    if (protocolError.fatal) {
      this.#close(protocolError.code, false);
      this.#transport.end();
    }
  }

  #sendError(code: string, text: string, ref?: string): void {
    const error: Record<string, string> = { type: 'error', code, text };
    if (ref !== undefined) error.ref = ref;
    this.send(`${JSON.stringify(error)}\n`);
  }

  #helloTimedOut(): void {
    if (this.#state !== 'awaiting-hello') return;
    this.#logger.info({ event: 'hello.timeout' });
    this.#sendError(ErrorCode.HELLO_TIMEOUT, 'no hello received in time');
    this.#close('hello timeout', false);
    this.#transport.end();
  }

  #close(reason: string, destroy: boolean): void {
    if (this.#state === 'closed') return;
    const wasReady = this.#state === 'ready';
    this.#state = 'closed';
    clearTimeout(this.#helloTimer);
    if (wasReady && this.#ctx.directory.remove(this)) this.#ctx.presence.changed();
    this.#logger.info({ event: 'connection.closed', reason });
    if (destroy) this.#transport.destroy();
  }
}

function asFatal(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) {
    return new ProtocolError(error.code, `${error.message} (before hello: closing)`, {
      fatal: true,
      cause: error,
    });
  }
  return new ProtocolError(ErrorCode.INTERNAL, 'internal error', { fatal: true, cause: error });
}

/** Best-effort message id of a rejected frame, for `error.ref` (only if it is a safe id). */
function idOf(line: Uint8Array): string | undefined {
  const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('latin1');
  const match = /"id"\s*:\s*"([A-Za-z0-9_-]{1,64})"/.exec(text);
  return match?.[1];
}
