import {
  Capability,
  type ClientFrame,
  ErrorCode,
  encodeError,
  encodeFetchedAck,
  type HelloFrame,
  ProtocolError,
} from '../protocol/index.js';
import { nowOf, type TimerHandle } from './clock.js';
import {
  FRAME_TABLE,
  type FrameRule,
  type FrameSession,
  refusalFor,
  routeRelay,
} from './frame-table.js';
import { MailboxDelivery } from './mailbox-delivery.js';
import type { SessionContext } from './session-context.js';
import { answerFailure, reportReleased } from './session-failure.js';
import { SessionIdentity } from './session-identity.js';
import { type InputHost, SessionInput } from './session-input.js';
import { readSessionLine } from './session-line.js';
import { SessionLog } from './session-log.js';
import { SessionNotices } from './session-notices.js';
import { type SendResult, SessionOutput } from './session-output.js';
import { usersLineOf, welcomeSession } from './session-welcome.js';
import type { Transport } from './transport.js';

export type { SessionContext, SessionLimits } from './session-context.js';
export type { SendResult } from './session-output.js';

export type SessionState = 'awaiting-hello' | 'ready' | 'closed';

/**
 * One client connection: decodes its lines, validates frames, checks each against the
 * frame table and runs its handler, one frame at a time, through the hello → ready →
 * closed state machine. Owns its decoder, its throttled logger, its output queue and its
 * timers; never touches a socket directly (see Transport). A handler error costs that
 * session one `E_INTERNAL`, never the process.
 */
export class Session extends SessionIdentity implements FrameSession, InputHost {
  readonly id: string;
  readonly log: SessionLog;
  forwardsInFlight = 0;
  /** When the connection was accepted (server clock), for `securechat who`. */
  readonly connectedAt: number;
  #transport: Transport;
  #ctx: SessionContext<Session>;
  #input: SessionInput;
  #state: SessionState = 'awaiting-hello';
  #helloTimer: TimerHandle | undefined;
  #output: SessionOutput;
  /** Made when first needed (a missed push, a congested queue): most sessions never. */
  #notices: SessionNotices | undefined;
  /** Made when first needed (a mailbox page, an acknowledgement). */
  #mailbox: MailboxDelivery | undefined;
  #refusal: { at: number; bytesRead: number } | undefined;

  constructor(id: string, transport: Transport, ctx: SessionContext<Session>) {
    super();
    this.id = id;
    this.#transport = transport;
    this.#ctx = ctx;
    this.connectedAt = ctx.clock.now();
    const now = nowOf(ctx.clock);
    this.#input = new SessionInput(this, transport, {
      maxLineBytes: ctx.limits.maxLineBytes,
      rateLimits: ctx.rateLimits,
      fileRate: ctx.fileRate ? { rate: ctx.fileRate, clock: ctx.clock } : undefined,
      stats: ctx.stats,
      now,
    });
    // The log's bindings (`remote` is formatted) are made only if this session logs a line.
    this.log = new SessionLog(ctx.logger, ctx.limits.log, now, () => ({
      sid: id,
      remote: transport.remote,
    }));
    this.#output = SessionOutput.of(transport, ctx, now, (queued) => this.#slowReader(queued));
    this.#helloTimer = ctx.clock.setTimeout(() => this.#helloTimedOut(), ctx.limits.helloTimeoutMs);
    if (this.log.infoEnabled) this.log.info({ event: 'connection.opened' });
  }

  /** MailboxOwner: our client fetched a stored message: its sender hears now, or later. */
  async fetched(from: string, id: string): Promise<void> {
    const sender = this.#ctx.directory.get(from);
    if (sender?.has(Capability.ack)) sender.send(encodeFetchedAck(id), 'ack');
    else if (sender === undefined)
      // A lost notice costs a mark, not the acknowledgement of what was fetched.
      await this.#ctx.router
        .keepFetched(from, id)
        .catch((err: unknown) => this.log.warn({ event: 'mailbox.notice_lost', err }));
  }

  get state(): SessionState {
    return this.#state;
  }
  /** False once the session is closed (async work checks it before answering). */
  get open(): boolean {
    return this.#state !== 'closed';
  }
  /** Address of the client (after PROXY protocol translation). */
  get remoteAddress(): string {
    return this.#transport.remoteAddress;
  }
  /** Per-address limits key; undefined when the address is shared by many clients. */
  get addressKey(): string | undefined {
    return this.#transport.addressKey;
  }
  /** What per-source limits key on: the real address, else the identity, else this connection. */
  get limitKey(): string {
    return this.addressKey ?? (this.identityKey ? `id:${this.identityKey}` : `sid:${this.id}`);
  }
  /** Time of the last line received (for the idle sweep). */
  get lastActivity(): number {
    return this.#input.lastActivity;
  }
  get pageOutstanding(): boolean {
    return this.#mailbox?.pageOutstanding ?? false;
  }
  get mailbox(): MailboxDelivery {
    this.#mailbox ??= new MailboxDelivery(this, this.#ctx.router, this.#ctx.stats);
    return this.#mailbox;
  }
  get #notes(): SessionNotices {
    this.#notices ??= new SessionNotices(this, this.#transport, () => this.#drained());
    return this.#notices;
  }

  /** Feeds bytes read from the connection. Never throws. */
  receive(chunk: Uint8Array): void {
    this.#input.receive(chunk);
  }

  // InputHost: what this session's SessionInput asks of it (the session is its own host,
  // so a held connection carries no adapter object and closures for it).
  get closed(): boolean {
    return this.#state === 'closed';
  }
  get congested(): boolean {
    return this.#output.congested;
  }
  handleLine(line: Uint8Array, body?: Uint8Array): Promise<void> | undefined {
    return this.#handleLine(line, body);
  }
  refuse(error: unknown): void {
    this.#reject(error);
    this.#abuse('oversized line');
  }
  flooding(): void {
    this.#close('rate limit abuse', { end: true });
    this.#abuse('flooding');
  }
  waitForDrain(): void {
    this.#notes.watch();
  }

  /** The client read what was queued: tell it what it missed, then go on with its input. */
  #drained(): void {
    if (this.#state === 'closed') return;
    this.#output.drained();
    this.#guard(() => this.#notices?.flush(), undefined);
    this.#input.resume();
  }

  /** FileSession: bytes queued for the client. */
  get queuedBytes(): number {
    return this.#transport.writableLength;
  }
  /** FileSession: resolves once the client read what was queued (or the session closed). */
  whenDrained(): Promise<void> {
    return new Promise((resolve) => this.#transport.whenDrained(resolve));
  }

  /** FileSession: binary chunk mode (`fbin`) on this server and announced by the client. */
  get binaryChunks(): boolean {
    return this.#ctx.files !== undefined && this.has(Capability.fbin);
  }
  /** FileSession: a binary chunk as one write (SessionOutput.replyBytes). */
  replyBytes(header: string, body: Uint8Array, lent?: () => void): boolean {
    return this.#output.replyBytes(header, body, lent);
  }

  /** An answer to the client's own request: always queued (input pauses instead). */
  reply(line: string, kind = 'other'): boolean {
    return this.#output.reply(line, kind);
  }
  send(line: string, kind = 'other'): boolean {
    return this.#output.reply(line, kind);
  }
  /** Traffic from a peer: not queued while the client is not reading. */
  offer(line: string, kind = 'other'): SendResult {
    return this.#output.offer(line, kind);
  }
  /** Traffic from a peer that must not be lost (room membership changes). */
  push(line: string, kind = 'other'): SendResult {
    return this.#output.push(line, kind);
  }
  missedRoomMessage(room: string): void {
    this.#notes.missedRoomMessage(room);
  }
  directoryMissed(): void {
    this.#notes.directoryMissed();
  }
  mailboxWaiting(): void {
    this.#notes.mailboxWaiting();
  }
  usersLine(): string {
    return usersLineOf(this.version, this.#ctx.directory);
  }
  deliverMailbox(): void {
    this.#guard(() => this.mailbox.deliver(), undefined);
  }

  /** A handler failed: `E_INTERNAL` for this session only, logged with its stack. */
  failed(error: unknown, ref?: string): void {
    const internal = answerFailure(this, this.#ctx.stats, error, ref);
    if (internal && this.#state === 'awaiting-hello') this.#close('internal error', { end: true });
  }

  /** Called by the listener when the connection is gone. */
  transportClosed(reason = 'connection closed'): void {
    if (this.#state !== 'closed') {
      this.#close(reason);
      return;
    }
    if (!this.#refusal) return;
    const { bytesRead } = this.#transport;
    reportReleased(this.log, this.#ctx.stats, this.#refusal, bytesRead, this.#ctx.clock.now());
    this.#refusal = undefined;
  }

  /** Server shutdown: tell the client, then close gracefully. */
  shutdown(): void {
    if (this.#state === 'closed') return;
    this.#endWith(ErrorCode.SHUTTING_DOWN, 'server is shutting down', 'server shutdown');
  }

  /** A newer connection proved the same identity and takes over the name. */
  replaced(): void {
    const message = 'this name was taken over by your newer connection';
    this.#endWith(ErrorCode.REPLACED, message, 'replaced by a newer connection', true);
  }

  /** Closes a session silent for too long (the server picks the timeout by version). */
  idleTimeout(): void {
    if (this.#state !== 'ready') return;
    this.log.info({ event: 'idle.timeout', v: this.version });
    this.#endWith(ErrorCode.IDLE_TIMEOUT, 'no traffic for too long', 'idle timeout');
  }

  #slowReader(queuedBytes: number): void {
    this.log.warn(
      { event: 'slow_reader.dropped', queuedBytes },
      'client stopped reading while peers kept sending; disconnecting',
    );
    this.#ctx.stats.securityEvents.inc('slow_reader');
    this.#close('slow reader', { destroy: true });
  }

  #abuse(reason: string): void {
    this.#ctx.stats.securityEvents.inc('abuse_disconnect');
    this.#ctx.onAbuse?.({ addressKey: this.addressKey, identityKey: this.identityKey, reason });
  }

  #handleLine(line: Uint8Array, body?: Uint8Array): Promise<void> | undefined {
    const reading = readSessionLine(line, this.#state, body);
    if (reading.kind === 'relay') {
      this.#input.relaysIn++; // counted once per read
      const relay = reading.relay;
      try {
        // Not through #guard: no closure per relay (the hot path), the same handling.
        return this.#caught(routeRelay(this, relay, this.#ctx), relay.id);
      } catch (error) {
        return this.#fail(error, relay.id);
      }
    }
    if (reading.kind === 'refused') {
      this.#reject(reading.error, reading.ref);
      return undefined;
    }
    const { frame, raw } = reading;
    this.#ctx.stats.framesIn.tally(frame.type);
    const refusal = refusalFor(this, frame);
    if (refusal) {
      // Missing identity or capability: answered, not logged (a client's honest mistake).
      if (
        refusal.error.code === ErrorCode.NEEDS_IDENTITY ||
        refusal.error.code === ErrorCode.FORBIDDEN
      )
        this.reply(encodeError(refusal.error.code, refusal.error.message, refusal.ref), 'error');
      else this.#reject(refusal.error, refusal.ref);
      return undefined;
    }
    const rule = FRAME_TABLE[frame.type] as FrameRule<ClientFrame>;
    return this.#guard(
      () => rule.handle(this, frame, raw, this.#ctx),
      (frame as { id?: string }).id,
    );
  }

  /**
   * Runs a handler: a thrown or rejected error costs this session one error frame. Returns
   * a promise that never rejects when the handler is asynchronous.
   */
  #guard(
    run: () => Promise<void> | undefined | void,
    ref: string | undefined,
  ): Promise<void> | undefined {
    try {
      return this.#caught(run(), ref);
    } catch (error) {
      return this.#fail(error, ref);
    }
  }

  #caught(pending: Promise<void> | undefined | void, ref: string | undefined) {
    return pending ? pending.catch((error: unknown) => this.#fail(error, ref)) : undefined;
  }

  #fail(error: unknown, ref: string | undefined): undefined {
    if (error instanceof ProtocolError) this.#reject(error, ref);
    else this.failed(error, ref);
    return undefined;
  }

  /** Admission of the hello, then the welcome (session-welcome.ts). */
  admit(hello: HelloFrame): Promise<void> | undefined {
    const session = this;
    const transport = this.#transport;
    return welcomeSession(this, hello, this.#ctx, {
      get awaitingHello() {
        return session.#state === 'awaiting-hello';
      },
      exportKeyingMaterial: transport.exportKeyingMaterial?.bind(transport),
      enter: () => {
        this.setHello(hello);
        if (!this.#ctx.directory.tryAdd(this))
          throw new Error('the directory refused an admitted session');
        this.#ctx.clock.clearTimeout(this.#helloTimer);
        this.#helloTimer = undefined; // a held session keeps no timer
        this.#state = 'ready';
        if (this.version < 2 || this.#ctx.limits.keepAliveV2) transport.keepAlive?.();
        // binary chunk mode (fbin), before the welcome offers it: the client's next byte may use it
        if (this.binaryChunks) this.#input.enableBinaryChunks(this.#ctx.files?.bodyBuffer);
      },
    });
  }

  #reject(error: unknown, ref?: string): void {
    if (!(error instanceof ProtocolError)) {
      this.failed(error, ref);
      return;
    }
    this.log.warn({ event: 'frame.rejected', code: error.code, fatal: error.fatal }, error.message);
    this.#ctx.stats.frameRejected.inc(error.code);
    this.reply(encodeError(error.code, error.message, ref), 'error');
    if (error.fatal) this.#close(error.code, { end: true });
  }

  #helloTimedOut(): void {
    if (this.#state !== 'awaiting-hello') return;
    this.log.info({ event: 'hello.timeout' });
    this.#endWith(ErrorCode.HELLO_TIMEOUT, 'no hello received in time', 'hello timeout');
  }

  /** Tells the client why (`code`), then ends the connection gracefully. */
  #endWith(code: ErrorCode, message: string, reason: string, silent = false): void {
    this.reply(encodeError(code, message), 'error');
    this.#close(reason, { end: true, silent });
  }

  #close(reason: string, how: { end?: boolean; destroy?: boolean; silent?: boolean } = {}): void {
    if (this.#state === 'closed') return;
    const wasReady = this.#state === 'ready';
    this.#state = 'closed';
    this.#input.close();
    this.#ctx.clock.clearTimeout(this.#helloTimer);
    // Only a session with an identity can be in a room (room frames and the lobby need one).
    if (wasReady && this.identityKey !== undefined) this.#ctx.rooms.memberLeft(this);
    if (wasReady && !how.silent && this.#ctx.directory.remove(this)) this.#ctx.presence.left(this);
    this.#output.close();
    this.#ctx.stats.connectionsClosed.tally(reason);
    if (this.log.infoEnabled) {
      const { general, security } = this.log.suppressed;
      this.log.info({
        event: 'connection.closed',
        reason,
        ...(general + security > 0 ? { logsSuppressed: { general, security } } : {}),
      });
    }
    if (how.destroy) this.#transport.destroy();
    else if (how.end) {
      this.#refusal = { at: this.#ctx.clock.now(), bytesRead: this.#transport.bytesRead };
      this.#transport.end();
    }
  }
}
