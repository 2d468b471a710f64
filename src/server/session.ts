import {
  type ClientFrame,
  decodeJsonLine,
  ErrorCode,
  fromBase64,
  type HelloFrame,
  identityFingerprint,
  LineDecoder,
  ProtocolError,
  parseClientFrame,
  type RelayFrame,
} from '../protocol/index.js';
import { admit, helloExporter, reportRefusal } from './admission.js';
import type { DirectoryMember, PeerDirectory } from './directory.js';
import {
  ackLine,
  asFatal,
  errorLine,
  idOf,
  PONG_LINE,
  peerInfoJson,
  serverTextLine,
  usersLine,
  welcomeLine,
} from './frames.js';
import { type RateLimits, SessionRate } from './limits/session-rate.js';
import type { Logger } from './logger.js';
import type { PrekeyService } from './prekey-service.js';
import type { PresenceBroadcaster } from './presence.js';
import type { RoomMember, RoomService } from './rooms/room-service.js';
import { MAILBOX_CAP, type RelayRouter, type SendResult } from './router.js';
import { SessionV2Services } from './session-v2.js';
import type { ServerStats } from './stats.js';
import type { ServerStore } from './store/index.js';
import type { Transport } from './transport.js';

export type { SendResult } from './router.js';

export interface SessionLimits {
  maxLineBytes: number;
  helloTimeoutMs: number;
  /** Queued bytes above which a reader counts as too slow and is dropped. */
  maxSendQueueBytes: number;
}

export interface SessionContext {
  directory: PeerDirectory<Session>;
  presence: PresenceBroadcaster<Session>;
  router: RelayRouter<Session>;
  prekeys: PrekeyService<Session>;
  rooms: RoomService<Session>;
  store: ServerStore;
  logger: Logger;
  limits: SessionLimits;
  stats: ServerStats;
  /** Per-connection rate limits; undefined disables them. */
  rateLimits?: RateLimits;
  /** Reports a disconnect for abuse (feeds the per-address penalty box). */
  onAbuse?: (address: string, reason: string) => void;
  now?: () => number;
}

export type SessionState = 'awaiting-hello' | 'ready' | 'closed';

const NO_BYTES = new Uint8Array(0);

/**
 * One client connection: decodes its lines, validates frames, and runs the
 * hello → ready → closed state machine. Owns its decoder, its logger and its timers;
 * never touches a socket directly (see Transport).
 */
export class Session implements DirectoryMember, RoomMember {
  readonly id: string;
  #transport: Transport;
  #ctx: SessionContext;
  #decoder: LineDecoder;
  #logger: Logger;
  #state: SessionState = 'awaiting-hello';
  #helloTimer: NodeJS.Timeout | undefined;
  #hello: HelloFrame | undefined;
  #peerJson = '';
  #now: () => number;
  #rate: SessionRate | undefined;
  #v2: SessionV2Services<Session>;
  #lastActivity: number;
  #lastRateError = 0;
  #identityFingerprint: string | undefined;

  constructor(id: string, transport: Transport, ctx: SessionContext) {
    this.id = id;
    this.#transport = transport;
    this.#ctx = ctx;
    this.#decoder = new LineDecoder(ctx.limits.maxLineBytes);
    this.#now = ctx.now ?? Date.now;
    this.#lastActivity = this.#now();
    if (ctx.rateLimits) this.#rate = new SessionRate(ctx.rateLimits, this.#lastActivity);
    this.#logger = ctx.logger.child({ sid: id, remote: transport.remote });
    this.#v2 = new SessionV2Services<Session>(this, ctx, this.#now);
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
  get keySignature(): string | undefined {
    return this.#hello?.pubsig;
  }
  /** Fingerprint of the proven identity key (v2), as administrators are configured. */
  get identityFingerprint(): string | undefined {
    return this.#identityFingerprint;
  }
  /** False once the session is closed (async work checks it before answering). */
  get open(): boolean {
    return this.#state !== 'closed';
  }
  get peerJson(): string {
    return this.#peerJson;
  }
  get wantsUserFrames(): boolean {
    return this.version === 1;
  }
  get wantsPresence(): boolean {
    return this.#has('presence');
  }
  /** Address of the client (after PROXY protocol translation). */
  get remoteAddress(): string {
    return this.#transport.remoteAddress;
  }
  /** Time of the last line received (for the idle sweep). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  #has(cap: string): boolean {
    return this.version >= 2 && (this.#hello?.caps.includes(cap) ?? false);
  }

  /** Feeds bytes read from the connection. Never throws. */
  receive(chunk: Uint8Array): void {
    if (this.#state === 'closed') return;
    this.#ctx.stats.bytesIn += chunk.length;
    let lines: Uint8Array[];
    try {
      lines = this.#decoder.push(chunk);
    } catch (error) {
      this.#reject(error);
      this.#abuse('oversized line');
      return;
    }
    if (lines.length === 0) return;
    const now = this.#now();
    this.#lastActivity = now;
    for (const line of lines) {
      if ((this.#state as SessionState) === 'closed') return;
      if (this.#rate && !this.#withinRate(line, now)) continue;
      this.#handleLine(line);
    }
    // The chunk went on into an over-long line: refuse it now, not at the next chunk.
    if (this.#decoder.dead) this.receive(NO_BYTES);
  }

  /** Queues a line for this client, dropping the client if it stopped reading. */
  send(line: string, kind = 'other'): boolean {
    return this.offer(line, kind) === 'queued';
  }

  /** Like {@link send}, but says why a line was not queued. */
  offer(line: string, kind = 'other'): SendResult {
    if (this.#state === 'closed') return 'closed';
    if (this.#transport.writableLength + line.length > this.#ctx.limits.maxSendQueueBytes) {
      this.#logger.warn(
        { event: 'slow_reader.dropped', queuedBytes: this.#transport.writableLength },
        'client stopped reading; disconnecting',
      );
      this.#ctx.stats.securityEvents.inc('slow_reader');
      this.#close('slow reader', { destroy: true });
      this.#abuse('slow reader');
      return 'slow-reader';
    }
    const stats = this.#ctx.stats;
    stats.bytesOut += line.length;
    stats.framesOut.inc(kind);
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
    this.send(errorLine(ErrorCode.SHUTTING_DOWN, 'server is shutting down'), 'error');
    this.#close('server shutdown', { end: true });
  }

  /** A newer connection proved the same identity and takes over the name. */
  replaced(): void {
    this.send(
      errorLine(ErrorCode.REPLACED, 'this name was taken over by your newer connection'),
      'error',
    );
    this.#close('replaced by a newer connection', { end: true, silent: true });
  }

  /** Closes an idle v2 session (no line, not even a ping, for too long). */
  idleTimeout(): void {
    if (this.#state !== 'ready') return;
    this.#logger.info({ event: 'idle.timeout' });
    this.send(
      errorLine(ErrorCode.IDLE_TIMEOUT, 'no traffic (not even ping) for too long'),
      'error',
    );
    this.#close('idle timeout', { end: true });
  }

  /** Applies the token buckets; a refused line gets E_RATE_LIMITED (throttled without an id). */
  #withinRate(line: Uint8Array, now: number): boolean {
    const verdict = this.#rate!.check(line.length + 1, now);
    if (verdict === 'ok') return true;
    this.#ctx.stats.rateLimited.inc(verdict);
    if (verdict === 'abusive') {
      this.#logger.warn({ event: 'rate_limit.disconnect' }, 'sustained flooding; disconnecting');
      this.send(errorLine(ErrorCode.RATE_LIMITED, 'too many frames: disconnected'), 'error');
      this.#close('rate limit abuse', { end: true });
      this.#abuse('flooding');
      return false;
    }
    const ref = idOf(line);
    const quiet = now - this.#lastRateError < 1000;
    if (!quiet) this.#logger.warn({ event: 'rate_limited' }, 'frame dropped by the rate limit');
    if (ref !== undefined || !quiet) {
      this.#lastRateError = now;
      this.send(
        errorLine(ErrorCode.RATE_LIMITED, 'slow down: frame dropped by the rate limit', ref),
        'error',
      );
    }
    return false;
  }

  #abuse(reason: string): void {
    this.#ctx.stats.securityEvents.inc('abuse_disconnect');
    this.#ctx.onAbuse?.(this.#transport.remoteAddress, reason);
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
    this.#ctx.stats.framesIn.inc(frame.type);
    if (this.#state === 'awaiting-hello') {
      if (frame.type === 'hello') this.#admit(frame);
      else
        this.#reject(
          new ProtocolError(ErrorCode.HELLO_REQUIRED, 'send hello first', { fatal: true }),
        );
      return;
    }
    this.#dispatch(frame, raw);
  }

  #dispatch(frame: ClientFrame, raw: Record<string, unknown>): void {
    const { directory } = this.#ctx;
    switch (frame.type) {
      case 'relay':
        if (raw.from !== undefined && raw.from !== this.name) {
          this.#logger.warn({ event: 'spoof.attempt', claimed: String(raw.from).slice(0, 64) });
          this.#ctx.stats.securityEvents.inc('spoof_attempt');
        }
        this.#relay(frame);
        return;
      case 'chat':
        this.#logger.info({ event: 'chat', text: frame.text }, 'server-readable chat');
        this.send(serverTextLine(`echo: ${frame.text}`), 'server');
        return;
      case 'list':
        this.send(
          usersLine(
            this.version,
            () => directory.usersJson(),
            () => directory.peersJson(),
          ),
          'users',
        );
        return;
      case 'ping':
        this.send(PONG_LINE, 'pong');
        return;
      case 'prekeys':
      case 'bundle':
      case 'fetched':
        this.#v2.handle(frame);
        return;
      case 'hello':
        this.#reject(new ProtocolError(ErrorCode.ALREADY_HELLO, 'hello was already accepted'));
        return;
      default:
        this.#ctx.rooms.handle(this, frame);
        return;
    }
  }

  #admit(hello: HelloFrame): void {
    const { directory, presence, store, stats } = this.#ctx;
    const admission = admit(hello, {
      store,
      online: (name) => directory.get(name),
      exporter: () => helloExporter(this.#transport.exportKeyingMaterial?.bind(this.#transport)),
      now: this.#now,
    });
    if (!admission.ok) {
      reportRefusal(admission, hello, this.#logger, stats);
      this.send(errorLine(admission.code, admission.text), 'error');
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
      this.send(
        errorLine(ErrorCode.NAME_TAKEN, `the name "${hello.user}" is already online`),
        'error',
      );
      return;
    }
    clearTimeout(this.#helloTimer);
    this.#state = 'ready';
    if (hello.idk && hello.pubsig) {
      this.#identityFingerprint = identityFingerprint(fromBase64(hello.idk, 'idk', 32));
      store.touchBinding(hello.user, this.#now(), {
        pub: hello.pub,
        pubsig: hello.pubsig,
        caps: hello.caps,
      });
    }
    this.#logger = this.#logger.child({ user: hello.user });
    stats.helloAccepted.inc(`v${hello.v}`);
    this.#logger.info({
      event: 'hello.accepted',
      v: hello.v,
      identity: admission.bound,
      replaced: admission.replaces !== undefined,
    });
    this.send(
      welcomeLine(
        hello.v,
        hello.caps.includes('presence'),
        () => directory.usersJson(),
        () => directory.peersJson(),
      ),
      'welcome',
    );
    if (this.#has('ratchet') && hello.idk) this.#v2.announcePrekeys();
    presence.joined(this);
    if (this.#has(MAILBOX_CAP)) this.#v2.deliverMailbox();
    if (this.#has('rooms')) this.#ctx.rooms.welcome(this);
  }

  #relay(relay: RelayFrame): void {
    const outcome = this.#ctx.router.route(this.name, relay);
    if (outcome.kind === 'failed') {
      this.send(errorLine(outcome.code, outcome.text, relay.id), 'error');
      return;
    }
    if (this.#logger.isLevelEnabled('debug')) {
      this.#logger.debug({
        event: 'relay',
        to: relay.to,
        bytes: relay.cipher.length,
        stored: outcome.kind === 'stored',
      });
    }
    if (relay.id !== undefined) this.send(ackLine(relay.id, outcome.kind === 'stored'), 'ack');
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
    this.#ctx.stats.frameRejected.inc(protocolError.code);
    this.send(errorLine(protocolError.code, protocolError.message, ref), 'error');
    if (protocolError.fatal) this.#close(protocolError.code, { end: true });
  }

  #helloTimedOut(): void {
    if (this.#state !== 'awaiting-hello') return;
    this.#logger.info({ event: 'hello.timeout' });
    this.send(errorLine(ErrorCode.HELLO_TIMEOUT, 'no hello received in time'), 'error');
    this.#close('hello timeout', { end: true });
  }

  #close(reason: string, how: { end?: boolean; destroy?: boolean; silent?: boolean } = {}): void {
    if (this.#state === 'closed') return;
    const wasReady = this.#state === 'ready';
    this.#state = 'closed';
    clearTimeout(this.#helloTimer);
    if (wasReady) this.#ctx.rooms.memberLeft(this);
    if (wasReady && !how.silent && this.#ctx.directory.remove(this)) this.#ctx.presence.left(this);
    this.#ctx.stats.connectionsClosed.inc(reason);
    this.#logger.info({ event: 'connection.closed', reason });
    if (how.destroy) this.#transport.destroy();
    else if (how.end) this.#transport.end();
  }
}
