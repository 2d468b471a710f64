import {
  Capability,
  type ErrorCode,
  type KemPrekeyWire,
  ProtocolError,
  type SignedPrekeyUpload,
} from '../../protocol/index.js';
import type { EventSink } from '../events.js';
import type { LocalUser } from '../identity/local-user.js';
import type { ServerConnection } from './connection.js';
import { helloFrame, serverErrorAction } from './handshake.js';

const PING_LINE = '{"type":"ping"}\n';

/** What a module needs to talk to the server: whether the session is up, and a way to send. */
export interface ServerLink {
  /** Welcomed on the current connection: requests may be sent. */
  readonly ready: boolean;
  /** Writes a frame; false when not connected (the caller queues or fails what it sent). */
  send(frame: object): boolean;
  /** Protocol version of the server's welcome (2: ours, which sets a relay's `from`). */
  readonly version?: number;
}

export interface ServerSessionOptions {
  user: LocalUser;
  connection: ServerConnection;
  sink: EventSink;
  /** Our current signed prekey, for the v2 hello (with an identity and its state). */
  signedPrekey?: () => SignedPrekeyUpload | undefined;
  /** The last-resort KEM prekey for the hello (PQXDH). */
  kemLastResort?: () => KemPrekeyWire | undefined;
  /** The server refused the session for good (its hello, or a newer connection replaced it). */
  refused: (error: ProtocolError) => void;
}

/**
 * This client's session with the server over its (re)connecting link: the hello on every
 * connection, the welcome that makes it ready (protocol version, capabilities, heartbeat),
 * and what a server error about the session means: retry, give up, or show it.
 */
export class ServerSession implements ServerLink {
  #options: ServerSessionOptions;
  #ready = false;
  /** Set at the first welcome: later refusals of the name may be our own stale session. */
  #welcomedOnce = false;
  #version = 1;
  #caps = new Set<string>();
  /** The line limit the server announced (v2 welcome), if any. */
  #maxLine: number | undefined;

  constructor(options: ServerSessionOptions) {
    this.#options = options;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** The server's line limit in bytes, when its welcome announced one. */
  /** The largest file the server takes, when its welcome said (`maxfile`). */
  get maxFile(): number | undefined {
    return this.#maxFile;
  }
  #maxFile: number | undefined;

  /** The largest chunk size the server takes in binary mode, when its welcome said (`maxchunk`). */
  get maxChunk(): number | undefined {
    return this.#maxChunk;
  }
  #maxChunk: number | undefined;

  get maxLine(): number | undefined {
    return this.#maxLine;
  }

  /** Whether any connection of this session was welcomed. */
  get welcomedOnce(): boolean {
    return this.#welcomedOnce;
  }

  /** Protocol version the server announced in its welcome (1 for seed servers). */
  get version(): number {
    return this.#version;
  }

  /** Whether the server's welcome offered `cap`. */
  offers(cap: string): boolean {
    return this.#caps.has(cap);
  }

  /** A frame, a pre-encoded line, or raw bytes (a binary chunk's body, after its header). */
  send(frame: object | string | Uint8Array | readonly Uint8Array[]): boolean {
    return this.#options.connection.send(frame);
  }

  /** The link is up: hello, v1 or v2 with a proof bound to this connection. */
  hello(): void {
    const { user, connection, signedPrekey, kemLastResort } = this.#options;
    this.send(
      helloFrame(
        user.name,
        user.keyPair,
        user.identity,
        connection.socket,
        signedPrekey?.(),
        kemLastResort?.(),
      ),
    );
  }

  /** The link went down; returns whether the session was ready until now. */
  lost(): boolean {
    const wasReady = this.#ready;
    this.#ready = false;
    return wasReady;
  }

  /** The server welcomed us: ready, with what it offers, and a heartbeat if it answers pings. */
  welcome(frame: {
    v: number;
    caps: readonly string[];
    maxline?: number;
    maxfile?: number;
    maxchunk?: number;
  }): void {
    this.#ready = true;
    this.#maxLine = frame.maxline;
    this.#maxFile = frame.maxfile;
    this.#maxChunk = frame.maxchunk;
    this.#welcomedOnce = true;
    this.#options.connection.accepted();
    this.#version = frame.v;
    this.#caps = new Set(frame.caps);
    if (frame.v >= 2 && this.#caps.has(Capability.ping))
      this.#options.connection.startHeartbeat(PING_LINE);
  }

  /** A server error that answered none of our requests. */
  error(code: string | undefined, text: string): void {
    const { user, connection, sink } = this.#options;
    const action = serverErrorAction(code, {
      ready: this.#ready,
      welcomedBefore: this.#welcomedOnce,
      reconnects: connection.reconnects,
    });
    if (action === 'retry') {
      // A legacy (v1) session cannot prove it is us, so the server keeps the old one until
      // it notices the dead link: keep trying rather than give up the name.
      sink.notice(
        'warning',
        `the server still holds the name ${user.name} for your previous connection; retrying`,
        code,
      );
      connection.retryLater('name still held by the previous connection');
      return;
    }
    if (action === 'fatal') {
      this.#options.refused(
        new ProtocolError(code as ErrorCode, text || 'the server refused us', { fatal: true }),
      );
      return;
    }
    sink.notice('error', text || 'error from server', code);
  }
}
