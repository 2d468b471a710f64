import { EventEmitter } from 'node:events';
import { connect, type TLSSocket, type ConnectionOptions as TlsConnectOptions } from 'node:tls';
import { networkHint } from '../../errors.js';
import {
  attachBody,
  CHUNK_BODY_RULE,
  DEFAULT_CLIENT_MAX_LINE_BYTES,
  decodeJsonLine,
  ErrorCode,
  type ParsedServerFrame,
  ProtocolError,
  parseServerFrame,
  RawBody,
  StreamDecoder,
  type StreamItem,
} from '../../protocol/index.js';
import { systemTimers, type Timer, type Timers } from '../clock.js';
import type { ConnectionState } from '../events.js';
import { DEFAULT_HEARTBEAT, Heartbeat, type HeartbeatPolicy } from './heartbeat.js';
import { formatPin, PinError, pinMatches, pinMismatch, type ServerPin } from './pinning.js';

export interface ReconnectPolicy {
  enabled: boolean;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up after this many consecutive failed attempts (Infinity = never). */
  maxAttempts: number;
}

export interface ServerConnectionOptions {
  host: string;
  port: number;
  pin: ServerPin;
  connectTimeoutMs?: number;
  maxLineBytes?: number;
  reconnect?: Partial<ReconnectPolicy>;
  /** Keepalive once the server offers `ping` (see startHeartbeat); `false` disables it. */
  heartbeat?: Partial<HeartbeatPolicy> | false;
  /** Injected for tests: returns a number in [0, 1). */
  random?: () => number;
  /** The reconnect delay and the heartbeat run on these (tests move a clock). */
  timers?: Timers;
  now?: () => number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = {
  enabled: false,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Exponential backoff with "equal jitter": half fixed, half random. */
export function backoffDelay(
  attempt: number,
  policy: ReconnectPolicy,
  random: () => number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

const CERT_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

export interface ServerConnectionEvents {
  state: [ConnectionState];
  frame: [ParsedServerFrame];
  /** A server frame that failed validation (not fatal unless `error.fatal`). */
  badFrame: [ProtocolError];
  /** The pin did not match: the connection is refused and never retried. */
  pinRejected: [PinError];
}

/**
 * The client's TLS link to the server: pins the certificate on every (re)connect, frames
 * and validates lines, and reconnects with backoff and jitter when allowed.
 */
export class ServerConnection extends EventEmitter<ServerConnectionEvents> {
  readonly options: ServerConnectionOptions;
  #policy: ReconnectPolicy;
  #socket: TLSSocket | undefined;
  #state: ConnectionState = { state: 'closed', reason: 'not started' };
  #attempt = 0;
  #retryTimer: Timer | undefined;
  #stopped = false;
  #heartbeat: Heartbeat | undefined;
  /** Hellos refused in a row after TLS succeeded (they back off like failed connects). */
  #refusedInARow = 0;
  /** Drops the current socket with a reason shown to the user (set per connection). */
  #drop: ((reason: string) => void) | undefined;

  constructor(options: ServerConnectionOptions) {
    super();
    this.options = options;
    this.#policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state.state === 'connected';
  }

  /** The TLS socket of the current connection (for RFC 5705 exporters), if connected. */
  get socket(): TLSSocket | undefined {
    return this.connected ? this.#socket : undefined;
  }

  start(): void {
    this.#stopped = false;
    this.#open();
  }

  /** Reconnects now (user command), resetting the backoff. */
  reconnectNow(): void {
    this.#attempt = 0;
    this.#retryTimer?.cancel();
    this.#socket?.destroy();
    if (!this.#socket) this.#open();
  }

  /**
   * Writes one frame (an object, a pre-encoded line, raw bytes, or the parts of one binary
   * frame written together); returns false when not connected (the caller queues or fails it).
   */
  send(frame: object | string | Uint8Array | readonly Uint8Array[]): boolean {
    const socket = this.#socket;
    if (!socket || !this.connected) return false;
    if (Array.isArray(frame)) {
      // parts of one frame (a binary chunk's header, ciphertext and tag): written together,
      // as one TLS write, without joining them into a new buffer first
      socket.cork();
      for (const part of frame as readonly Uint8Array[]) socket.write(part);
      socket.uncork();
      this.#heartbeat?.sent();
      return true;
    }
    // raw bytes: the body of a binary chunk, right after its header line
    socket.write(
      typeof frame === 'string' || frame instanceof Uint8Array
        ? frame
        : `${JSON.stringify(frame)}\n`,
    );
    this.#heartbeat?.sent();
    return true;
  }

  /**
   * Starts the keepalive for the current connection: called once the server's welcome
   * offers `ping`. Pings after a quiet interval and drops the connection (then reconnects)
   * when nothing answers, so a half-open link is noticed instead of silently eating
   * messages. Seed servers never see a ping.
   */
  startHeartbeat(pingLine: string): void {
    if (this.options.heartbeat === false || !this.connected || this.#heartbeat) return;
    const policy = { ...DEFAULT_HEARTBEAT, ...this.options.heartbeat };
    const heartbeat = new Heartbeat(policy, {
      sendPing: () => this.#socket?.write(pingLine),
      dead: (reason) => this.#drop?.(reason),
      ...(this.options.now ? { now: this.options.now } : {}),
      ...(this.options.timers ? { timers: this.options.timers } : {}),
    });
    this.#heartbeat = heartbeat;
    heartbeat.start();
  }

  /** Whether a dropped connection is retried. */
  get reconnects(): boolean {
    return this.#policy.enabled;
  }

  /**
   * The server refused this session for a reason that should pass (our previous, half-open
   * connection still holds the name): drop it and try again with a growing delay.
   */
  retryLater(reason: string): void {
    this.#refusedInARow++;
    this.#drop?.(reason);
  }

  /** The server welcomed us: refusals no longer count toward the backoff. */
  accepted(): void {
    this.#refusedInARow = 0;
  }

  /** Closes for good (no reconnect). Resolves once the socket is gone. */
  close(reason = 'closed by user'): Promise<void> {
    this.#stopped = true;
    this.#retryTimer?.cancel();
    const socket = this.#socket;
    if (!socket || socket.destroyed) {
      this.#setState({ state: 'closed', reason });
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.once('close', () => {
        clearTimeout(timer);
        this.#setState({ state: 'closed', reason });
        resolve();
      });
      socket.end();
    });
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.emit('state', state);
  }

  #open(): void {
    const { host, port, pin } = this.options;
    this.#setState({ state: 'connecting', attempt: this.#attempt + 1 });
    const decoder = new StreamDecoder(this.options.maxLineBytes ?? DEFAULT_CLIENT_MAX_LINE_BYTES);
    // Our hello announces binary chunks (fbin): a server may follow an fchunkb header with raw bytes.
    // Bodies share one buffer: every frame of a push is routed (a chunk opened) before the
    // next push, synchronously ('frame' listeners must not keep `sealed`).
    decoder.enableBodies(CHUNK_BODY_RULE, { reuseBodies: true });
    const tlsOptions: TlsConnectOptions = {
      host,
      port,
      minVersion: 'TLSv1.2',
      // Never resume: checkServerIdentity is skipped on resumed sessions (CVE-2020-8172).
      session: undefined,
      // Pinning, not hostnames: ngrok names never match the certificate.
      checkServerIdentity: (_host, cert) =>
        pinMatches(pin, cert.raw) ? undefined : pinMismatch(pin, cert.raw),
    };
    if (pin.kind === 'certificate') {
      tlsOptions.ca = [pin.certPem];
      tlsOptions.rejectUnauthorized = true;
    } else {
      // The CA is unknown with a bare fingerprint: verified on secureConnect below, before
      // a single byte is written.
      tlsOptions.rejectUnauthorized = false;
    }
    let pinFailure: PinError | undefined;
    let closeReason = 'connection closed';
    const socket = connect(tlsOptions);
    this.#socket = socket;
    socket.setNoDelay(true);
    // Seed servers have no ping: let the kernel probe an idle link (v2 adds a heartbeat).
    socket.setKeepAlive(true, 30_000);
    this.#drop = (reason) => {
      closeReason = reason;
      socket.destroy();
    };
    socket.setTimeout(this.options.connectTimeoutMs ?? 15_000, () => {
      closeReason = 'connect timeout';
      socket.destroy();
    });
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      const der = socket.getPeerCertificate().raw;
      if (!der || !pinMatches(pin, der)) {
        pinFailure = der
          ? pinMismatch(pin, der)
          : new PinError('E_PIN_MISMATCH', 'server sent no certificate');
        socket.destroy();
        return;
      }
      this.#attempt = 0;
      this.#setState({
        state: 'connected',
        server: `${host}:${port}`,
        fingerprint: formatPin(pin.sha256),
      });
    });
    socket.on('data', (chunk: Buffer) => {
      this.#heartbeat?.received();
      let lines: StreamItem[];
      try {
        lines = decoder.push(chunk);
      } catch (error) {
        this.emit('badFrame', error as ProtocolError);
        closeReason = 'server sent an oversized line';
        socket.destroy();
        return;
      }
      for (let k = 0; k < lines.length; k++) {
        const line = lines[k]!;
        if (line instanceof RawBody) continue; // its header took it
        const next = lines[k + 1];
        const body = next instanceof RawBody ? next.bytes : undefined;
        let frame: ParsedServerFrame;
        try {
          frame = parseServerFrame(decodeJsonLine(line));
          if (frame.type === 'fchunk' || body !== undefined) {
            const joined = attachBody(frame as { sealed: Uint8Array; binary?: number }, body);
            if (typeof joined === 'string') throw new ProtocolError(ErrorCode.BAD_FIELD, joined);
          }
        } catch (error) {
          if (error instanceof ProtocolError) this.emit('badFrame', error);
          continue;
        }
        this.emit('frame', frame);
      }
      if (decoder.dead) {
        // The frames before it were delivered; the over-long line after them ends the link.
        try {
          decoder.push(new Uint8Array(0));
        } catch (error) {
          this.emit('badFrame', error as ProtocolError);
        }
        closeReason = 'server sent an oversized line';
        socket.destroy();
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof PinError) {
        pinFailure = error;
      } else if (error.code && CERT_VERIFY_CODES.has(error.code)) {
        const der = socket.getPeerCertificate()?.raw;
        pinFailure = der
          ? pinMismatch(pin, der)
          : new PinError(
              'E_PIN_MISMATCH',
              `server certificate is not the pinned one (${error.code})`,
            );
      } else {
        const hint = networkHint(error.code);
        closeReason = `${error.code ? `${error.code}: ${error.message}` : error.message}${hint ? ` (${hint})` : ''}`;
      }
    });
    socket.once('close', () => {
      if (this.#socket === socket) {
        this.#socket = undefined;
        this.#drop = undefined;
        this.#heartbeat?.stop();
        this.#heartbeat = undefined;
      }
      if (pinFailure) {
        this.#stopped = true;
        // The refusal first (it carries both fingerprints, shown once), then a short state.
        this.emit('pinRejected', pinFailure);
        this.#setState({ state: 'closed', reason: 'the server certificate was refused' });
        return;
      }
      if (this.#stopped) return;
      this.#scheduleReconnect(closeReason);
    });
  }

  #scheduleReconnect(reason: string): void {
    if (!this.#policy.enabled || this.#attempt >= this.#policy.maxAttempts) {
      this.#stopped = true;
      this.#setState({ state: 'closed', reason });
      return;
    }
    const inMs = backoffDelay(
      this.#attempt + this.#refusedInARow,
      this.#policy,
      this.options.random ?? Math.random,
    );
    this.#attempt++;
    this.#setState({ state: 'reconnecting', attempt: this.#attempt, inMs, reason });
    this.#retryTimer = (this.options.timers ?? systemTimers).after(inMs, () => this.#open(), {
      keepAlive: true,
    });
  }
}
