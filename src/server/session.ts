import {
  type ClientFrame,
  decodeJsonLine,
  ErrorCode,
  encodeRelayDelivery,
  type HelloFrame,
  LineDecoder,
  ProtocolError,
  parseClientFrame,
  type RelayFrame,
} from '../protocol/index.js';
import { admit, helloExporter } from './admission.js';
import type { DirectoryMember, PeerDirectory } from './directory.js';
import {
  ackLine,
  errorLine,
  PONG_LINE,
  peerInfoJson,
  serverTextLine,
  usersLine,
  welcomeLine,
} from './frames.js';
import type { Logger } from './logger.js';
import type { PresenceBroadcaster } from './presence.js';
import type { ServerStore } from './store/index.js';
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
  store: ServerStore;
  logger: Logger;
  limits: SessionLimits;
  now?: () => number;
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
  #hello: HelloFrame | undefined;
  #peerJson = '';

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
    return this.#hello?.user ?? '';
  }
  get pub(): string {
    return this.#hello?.pub ?? '';
  }
  /** Protocol version of the accepted hello (0 before hello). */
  get version(): number {
    return this.#hello?.v ?? 0;
  }
  get identityKey(): string | undefined {
    return this.#hello?.idk;
  }
  get peerJson(): string {
    return this.#peerJson;
  }
  get wantsUserFrames(): boolean {
    return this.version === 1;
  }
  get wantsPresence(): boolean {
    return this.version >= 2 && (this.#hello?.caps.includes('presence') ?? false);
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
      this.#close('slow reader', { destroy: true });
      return 'slow-reader';
    }
    this.#transport.write(line);
    return 'queued';
  }

  /** Called by the listener when the connection is gone. */
  transportClosed(reason = 'connection closed'): void {
    this.#close(reason);
  }

  /** Server shutdown: tell the client, then close gracefully. */
  shutdown(): void {
    if (this.#state === 'closed') return;
    this.send(errorLine(ErrorCode.SHUTTING_DOWN, 'server is shutting down'));
    this.#close('server shutdown', { end: true });
  }

  /** A newer connection proved the same identity and takes over the name. */
  replaced(): void {
    this.send(errorLine(ErrorCode.REPLACED, 'this name was taken over by your newer connection'));
    this.#close('replaced by a newer connection', { end: true, silent: true });
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
      if (frame.type === 'hello') this.#admit(frame);
      else
        this.#reject(
          new ProtocolError(ErrorCode.HELLO_REQUIRED, 'send hello first', { fatal: true }),
        );
      return;
    }
    switch (frame.type) {
      case 'relay':
        if (raw.from !== undefined && raw.from !== this.name) {
          this.#logger.warn({ event: 'spoof.attempt', claimed: String(raw.from).slice(0, 64) });
        }
        this.#relay(frame);
        return;
      case 'chat':
        this.#logger.info({ event: 'chat', text: frame.text }, 'server-readable chat');
        this.send(serverTextLine(`echo: ${frame.text}`));
        return;
      case 'list': {
        const directory = this.#ctx.directory;
        this.send(usersLine(this.version, directory.usersJson(), () => directory.peersJson()));
        return;
      }
      case 'ping':
        this.send(PONG_LINE);
        return;
      case 'hello':
        this.#reject(new ProtocolError(ErrorCode.ALREADY_HELLO, 'hello was already accepted'));
        return;
    }
  }

  #admit(hello: HelloFrame): void {
    const { directory, presence, store } = this.#ctx;
    const admission = admit(hello, {
      store,
      online: (name) => directory.get(name),
      exporter: () => helloExporter(this.#transport.exportKeyingMaterial?.bind(this.#transport)),
      now: this.#ctx.now ?? Date.now,
    });
    if (!admission.ok) {
      this.#logger.warn(
        { event: 'hello.refused', reason: admission.reason, user: hello.user, v: hello.v },
        admission.text,
      );
      if (admission.takeover) {
        this.#logger.warn({
          event: 'name.takeover_attempt',
          user: hello.user,
          code: admission.code,
        });
      }
      this.send(errorLine(admission.code, admission.text));
      return;
    }
    if (admission.replaces) {
      admission.replaces.replaced();
      directory.remove(admission.replaces);
    }
    this.#hello = hello;
    this.#peerJson = peerInfoJson(hello);
    if (!directory.tryAdd(this)) {
      // Unreachable while admission and insertion run in one turn; kept as a guard.
      this.#hello = undefined;
      this.send(errorLine(ErrorCode.NAME_TAKEN, `the name "${hello.user}" is already online`));
      return;
    }
    clearTimeout(this.#helloTimer);
    this.#state = 'ready';
    this.#logger = this.#logger.child({ user: hello.user });
    this.#logger.info({
      event: 'hello.accepted',
      v: hello.v,
      identity: admission.bound,
      replaced: admission.replaces !== undefined,
    });
    this.send(welcomeLine(hello.v, directory.usersJson(), () => directory.peersJson()));
    presence.joined(this);
  }

  #relay(relay: RelayFrame): void {
    const target = this.#ctx.directory.get(relay.to);
    if (target === undefined) {
      this.send(errorLine(ErrorCode.PEER_OFFLINE, `${relay.to} is not online`, relay.id));
      return;
    }
    const result = target.offer(encodeRelayDelivery(this.name, relay));
    if (result !== 'queued') {
      const text =
        result === 'slow-reader'
          ? `${relay.to} stopped reading and was disconnected`
          : `${relay.to} is not online`;
      this.send(errorLine(ErrorCode.PEER_OFFLINE, text, relay.id));
      return;
    }
    if (this.#logger.isLevelEnabled('debug')) {
      this.#logger.debug({ event: 'relay', to: target.name, bytes: relay.cipher.length });
    }
    if (relay.id !== undefined) this.send(ackLine(relay.id));
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
    this.send(errorLine(protocolError.code, protocolError.message, ref));
    if (protocolError.fatal) this.#close(protocolError.code, { end: true });
  }

  #helloTimedOut(): void {
    if (this.#state !== 'awaiting-hello') return;
    this.#logger.info({ event: 'hello.timeout' });
    this.send(errorLine(ErrorCode.HELLO_TIMEOUT, 'no hello received in time'));
    this.#close('hello timeout', { end: true });
  }

  #close(reason: string, how: { end?: boolean; destroy?: boolean; silent?: boolean } = {}): void {
    if (this.#state === 'closed') return;
    const wasReady = this.#state === 'ready';
    this.#state = 'closed';
    clearTimeout(this.#helloTimer);
    if (wasReady && !how.silent && this.#ctx.directory.remove(this)) this.#ctx.presence.left(this);
    this.#logger.info({ event: 'connection.closed', reason });
    if (how.destroy) this.#transport.destroy();
    else if (how.end) this.#transport.end();
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
