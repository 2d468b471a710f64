import { EventEmitter } from 'node:events';
import {
  ALG_V1,
  ErrorCode,
  generateX25519KeyPair,
  isValidName,
  keyFingerprint,
  openV1,
  type ParsedServerFrame,
  ProtocolError,
  type RelayDelivery,
  sealV1,
  toBase64,
  type X25519KeyPair,
} from '../protocol/index.js';
import type { ServerConnection } from './connection.js';
import type { ClientEvent, ConnectionState, DeliveryStatus, PeerSummary } from './events.js';
import { Protection } from './events.js';
import { ClientDirectory } from './peer-directory.js';
import { V1KeyCache } from './v1-keys.js';

export interface ChatClientOptions {
  name: string;
  connection: ServerConnection;
  keyPair?: X25519KeyPair;
  now?: () => number;
  /** Messages typed while disconnected, kept until the next welcome. */
  maxQueued?: number;
}

interface Outgoing {
  id: string;
  to: string;
  text: string;
  action: boolean;
}

interface PendingIncoming {
  relay: RelayDelivery;
  /** Directory version when the message arrived: retried once the directory changes. */
  version: number;
}

const MAX_PENDING_INCOMING = 256;

/** Result of a send request, for the UI's immediate feedback. */
export type SendOutcome = { ok: true; id: string } | { ok: false; reason: string };

/**
 * The chat client without a terminal: handshake, directory, v1 end-to-end encryption,
 * delivery tracking and the message queue. The terminal UI and `--json` mode both listen to
 * its `event`s and call its methods.
 */
export class ChatClient extends EventEmitter<{ event: [ClientEvent]; fatal: [Error] }> {
  readonly name: string;
  readonly keyPair: X25519KeyPair;
  readonly ownFingerprint: string;
  readonly directory = new ClientDirectory();
  #connection: ServerConnection;
  #keys: V1KeyCache;
  #now: () => number;
  #ready = false;
  #serverAcks = false;
  #nextId = 0;
  #idPrefix: string;
  #outbox: Outgoing[] = [];
  #maxQueued: number;
  #unacked = new Map<string, Outgoing>();
  #pendingIncoming: PendingIncoming[] = [];
  #listRequested = false;

  constructor(options: ChatClientOptions) {
    super();
    if (!isValidName(options.name))
      throw new ProtocolError(ErrorCode.BAD_NAME, 'invalid user name');
    this.name = options.name;
    this.keyPair = options.keyPair ?? generateX25519KeyPair();
    this.ownFingerprint = keyFingerprint(this.keyPair.publicKey);
    this.#connection = options.connection;
    this.#keys = new V1KeyCache(this.keyPair);
    this.#now = options.now ?? Date.now;
    this.#maxQueued = options.maxQueued ?? 100;
    this.#idPrefix = Math.floor(Math.random() * 36 ** 4).toString(36);
    this.#connection.on('state', (state) => this.#onState(state));
    this.#connection.on('frame', (frame) => this.#onFrame(frame));
    this.#connection.on('badFrame', (error) =>
      this.#notice(
        'warning',
        `ignored a malformed frame from the server: ${error.message}`,
        error.code,
      ),
    );
    this.#connection.on('pinRejected', (error) => this.emit('fatal', error));
  }

  get ready(): boolean {
    return this.#ready;
  }

  get connectionState(): ConnectionState {
    return this.#connection.state;
  }

  /** Number of messages waiting for a connection. */
  get queued(): number {
    return this.#outbox.length;
  }

  /** Sent messages the server has not confirmed yet. */
  get unacknowledged(): number {
    return this.#serverAcks ? this.#unacked.size : 0;
  }

  start(): void {
    this.#connection.start();
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }

  /** End-to-end encrypts `text` for `to` (or queues it while disconnected). */
  sendDirect(to: string, text: string, options: { action?: boolean } = {}): SendOutcome {
    if (!isValidName(to)) return { ok: false, reason: `invalid user name "${to}"` };
    const message: Outgoing = { id: this.#newId(), to, text, action: options.action ?? false };
    if (!this.#ready) {
      if (this.#outbox.length >= this.#maxQueued) {
        return {
          ok: false,
          reason: `not connected and ${this.#maxQueued} messages are already queued`,
        };
      }
      this.#outbox.push(message);
      this.#emitMessageOut(message);
      this.#delivery(message, 'queued', 'not connected; will send after reconnecting');
      return { ok: true, id: message.id };
    }
    const peer = this.directory.get(to);
    if (!peer) return { ok: false, reason: `${to} is not online (see /list)` };
    this.#emitMessageOut(message);
    this.#transmit(message);
    return { ok: true, id: message.id };
  }

  /** Sends server-readable text (the server answers `echo: …`). */
  sendServer(text: string): SendOutcome {
    if (!this.#ready) return { ok: false, reason: 'not connected' };
    this.#connection.send({ type: 'chat', text });
    this.emit('event', {
      kind: 'message',
      ts: this.#now(),
      direction: 'out',
      from: this.name,
      to: '(server)',
      text,
      protection: Protection.server,
    });
    return { ok: true, id: '' };
  }

  /** Asks the server for the directory; the answer arrives as a `users` event. */
  requestList(): boolean {
    if (!this.#ready) return false;
    this.#listRequested = true;
    return this.#connection.send({ type: 'list' });
  }

  /** The v1 fingerprint of a user's current key (our own included). */
  fingerprintOf(name: string): string | undefined {
    if (name.toLowerCase() === this.name.toLowerCase()) return this.ownFingerprint;
    return this.directory.get(name)?.fingerprint;
  }

  /** Directory as shown by /list. */
  peerSummaries(): PeerSummary[] {
    return this.directory.entries().map((peer) => ({
      name: peer.name,
      fingerprint: peer.fingerprint,
      status: 'legacy',
      ...(peer.name.toLowerCase() === this.name.toLowerCase() ? { self: true } : {}),
    }));
  }

  #newId(): string {
    return `${this.#idPrefix}-${(++this.#nextId).toString(36)}`;
  }

  #emitMessageOut(message: Outgoing): void {
    this.emit('event', {
      kind: 'message',
      ts: this.#now(),
      direction: 'out',
      from: this.name,
      to: message.to,
      text: message.text,
      protection: Protection.legacy,
      id: message.id,
      ...(message.action ? { action: true } : {}),
    });
  }

  #delivery(message: Outgoing, status: DeliveryStatus, reason?: string): void {
    this.emit('event', {
      kind: 'delivery',
      ts: this.#now(),
      id: message.id,
      to: message.to,
      status,
      ...(reason === undefined ? {} : { reason }),
    });
  }

  #transmit(message: Outgoing): void {
    const peer = this.directory.get(message.to);
    if (!peer) {
      this.#delivery(message, 'failed', `${message.to} is not online`);
      return;
    }
    let envelope: ReturnType<typeof sealV1>;
    try {
      const plaintext = message.action ? `/me ${message.text}` : message.text;
      envelope = sealV1(this.#keys.keyFor(peer.pub, peer.pubBytes), plaintext);
    } catch (error) {
      this.#delivery(
        message,
        'failed',
        `cannot encrypt for ${peer.name}: ${(error as Error).message}`,
      );
      return;
    }
    const sent = this.#connection.send({
      type: 'relay',
      to: peer.name,
      from: this.name,
      ...envelope,
      id: message.id,
    });
    if (!sent) {
      this.#delivery(message, 'failed', 'connection lost');
      return;
    }
    this.#unacked.set(message.id, message);
    this.#delivery(message, 'sent');
  }

  #onState(state: ConnectionState): void {
    this.emit('event', { kind: 'connection', ts: this.#now(), status: state });
    if (state.state === 'connected') {
      this.#connection.send({
        type: 'hello',
        user: this.name,
        pub: toBase64(this.keyPair.publicKey),
      });
      return;
    }
    const wasReady = this.#ready;
    this.#ready = false;
    if (wasReady && this.#serverAcks) {
      for (const message of this.#unacked.values()) {
        this.#delivery(message, 'failed', 'connection lost before the server confirmed delivery');
      }
    }
    this.#unacked.clear();
    if (state.state === 'closed') {
      for (const message of this.#outbox) this.#delivery(message, 'failed', 'not connected');
      this.#outbox = [];
    }
  }

  #onFrame(frame: ParsedServerFrame): void {
    switch (frame.type) {
      case 'welcome': {
        this.#ready = true;
        this.#applyDirectory(frame.users, true);
        const queued = this.#outbox;
        this.#outbox = [];
        for (const message of queued) this.#transmit(message);
        return;
      }
      case 'users':
        this.#applyDirectory(frame.users, false);
        return;
      case 'relay':
        this.#onRelay(frame);
        return;
      case 'server':
        this.emit('event', { kind: 'server', ts: this.#now(), text: frame.text });
        return;
      case 'ack': {
        this.#serverAcks = true;
        const message = this.#unacked.get(frame.id);
        if (message) {
          this.#unacked.delete(frame.id);
          this.#delivery(message, 'delivered');
        }
        return;
      }
      case 'error':
        this.#onServerError(frame.code, frame.text, frame.ref);
        return;
      case 'unknown':
        return;
    }
  }

  #onServerError(code: string | undefined, text: string, ref: string | undefined): void {
    const message = ref === undefined ? undefined : this.#unacked.get(ref);
    if (message) {
      this.#unacked.delete(message.id);
      this.#delivery(message, 'failed', text || code || 'refused by the server');
      return;
    }
    if (!this.#ready && (code === ErrorCode.NAME_TAKEN || code === ErrorCode.BAD_NAME)) {
      const error = new ProtocolError(code, text || 'the server refused our name', { fatal: true });
      this.emit('fatal', error);
      return;
    }
    this.#notice('error', text || 'error from server', code);
  }

  #applyDirectory(users: ReadonlyMap<string, string>, initial: boolean): void {
    const listRequested = this.#listRequested;
    this.#listRequested = false;
    const diff = this.directory.replace(users);
    if (!initial) {
      const ts = this.#now();
      for (const peer of diff.joined) {
        this.emit('event', {
          kind: 'presence',
          ts,
          event: 'join',
          user: peer.name,
          fingerprint: peer.fingerprint,
        });
      }
      for (const peer of diff.left) {
        this.emit('event', {
          kind: 'presence',
          ts,
          event: 'leave',
          user: peer.name,
          fingerprint: peer.fingerprint,
        });
      }
      for (const peer of diff.rekeyed) {
        if (peer.name.toLowerCase() === this.name.toLowerCase()) continue;
        this.#notice(
          'info',
          `${peer.name} reconnected with a new key (fingerprint ${peer.fingerprint})`,
        );
      }
    }
    if (initial || listRequested) {
      this.emit('event', { kind: 'users', ts: this.#now(), users: this.peerSummaries() });
    }
    this.#retryPending();
  }

  #onRelay(relay: RelayDelivery): void {
    if (relay.alg !== ALG_V1) {
      this.#notice(
        'warning',
        `message from ${relay.from} uses an unsupported algorithm "${relay.alg}"`,
      );
      return;
    }
    if (!this.#tryDecrypt(relay, false)) {
      if (this.#pendingIncoming.length >= MAX_PENDING_INCOMING) {
        const dropped = this.#pendingIncoming.shift();
        if (dropped) this.#undecryptable(dropped.relay, 'too many messages waiting for keys');
      }
      this.#pendingIncoming.push({ relay, version: this.directory.version });
      if (!this.#listRequested) this.requestList();
    }
  }

  /** Decrypts and emits; returns false when a directory refresh might help. */
  #tryDecrypt(relay: RelayDelivery, final: boolean): boolean {
    const sender =
      relay.from.toLowerCase() === this.name.toLowerCase()
        ? {
            pub: toBase64(this.keyPair.publicKey),
            pubBytes: this.keyPair.publicKey,
            fingerprint: this.ownFingerprint,
            name: this.name,
          }
        : this.directory.get(relay.from);
    if (!sender) {
      if (final) this.#undecryptable(relay, `no key known for ${relay.from}`);
      return final;
    }
    let text: string;
    try {
      text = openV1(this.#keys.keyFor(sender.pub, sender.pubBytes), relay);
    } catch (error) {
      if (final) this.#undecryptable(relay, (error as Error).message);
      return final;
    }
    const action = text.startsWith('/me ');
    this.emit('event', {
      kind: 'message',
      ts: this.#now(),
      direction: 'in',
      from: relay.from,
      to: this.name,
      text: action ? text.slice(4) : text,
      protection: Protection.legacy,
      fingerprint: sender.fingerprint,
      ...(action ? { action: true } : {}),
      ...(relay.id === undefined ? {} : { id: relay.id }),
    });
    return true;
  }

  #retryPending(): void {
    if (this.#pendingIncoming.length === 0) return;
    const version = this.directory.version;
    const waiting = this.#pendingIncoming;
    this.#pendingIncoming = [];
    for (const pending of waiting) {
      if (pending.version === version) this.#pendingIncoming.push(pending);
      else this.#tryDecrypt(pending.relay, true);
    }
  }

  #undecryptable(relay: RelayDelivery, reason: string): void {
    this.#notice(
      'warning',
      `could not decrypt a message from ${relay.from} (${reason}); it may have been tampered with`,
      ErrorCode.DECRYPT_FAILED,
    );
  }

  #notice(kind: 'info' | 'warning' | 'error', text: string, code?: string): void {
    this.emit('event', { kind, ts: this.#now(), text, ...(code === undefined ? {} : { code }) });
  }
}
