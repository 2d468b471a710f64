import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  ALG_V1,
  Capability,
  ErrorCode,
  generateX25519KeyPair,
  HELLO_EXPORTER_BYTES,
  HELLO_EXPORTER_LABEL,
  isValidName,
  keyFingerprint,
  openV1,
  type ParsedServerFrame,
  type PeerInfo,
  ProtocolError,
  type RelayDelivery,
  sealV1,
  signHelloProof,
  signPrekey,
  toBase64,
  type X25519KeyPair,
} from '../protocol/index.js';
import type { ServerConnection } from './connection.js';
import { DeliveryTracker, type Outgoing } from './delivery.js';
import { DirectorySync } from './directory-sync.js';
import {
  type ClientEvent,
  type ConnectionState,
  type MessageEvent,
  type PeerSummary,
  Protection,
} from './events.js';
import { PendingDecryptions, SeenMessages } from './incoming.js';
import type { LocalIdentity } from './keystore.js';
import { type Peer, PeerBook, type PeerStatus } from './peers.js';
import { formatPin } from './pinning.js';
import { TrustCommands } from './trust-commands.js';
import type { TrustStore } from './trust-store.js';
import { V1KeyCache } from './v1-keys.js';

export interface ChatClientOptions {
  name: string;
  connection: ServerConnection;
  /** Long-term identity: enables the v2 hello. Without it the client speaks v1 only. */
  identity?: LocalIdentity;
  trust?: TrustStore;
  now?: () => number;
  /** Messages typed while disconnected, kept until the next welcome. */
  maxQueued?: number;
}

const CLIENT_CAPS = [Capability.presence, Capability.ack, Capability.ping, 'mailbox'];

/** Result of a send request, for the UI's immediate feedback. */
export type SendOutcome = { ok: true; id: string } | { ok: false; reason: string };

/**
 * The chat client without a terminal: handshake (v1, or v2 with an identity proof),
 * directory and trust, end-to-end encryption, delivery tracking. The terminal UI and
 * `--json` mode both listen to its `event`s and call its methods.
 */
export class ChatClient extends EventEmitter<{ event: [ClientEvent]; fatal: [Error] }> {
  readonly name: string;
  readonly keyPair: X25519KeyPair;
  readonly identity: LocalIdentity | undefined;
  readonly ownFingerprint: string;
  readonly peers: PeerBook;
  readonly trustCommands: TrustCommands;
  #connection: ServerConnection;
  #keys: V1KeyCache;
  #now: () => number;
  #ready = false;
  #serverVersion = 1;
  #nextId = 0;
  // Random per run, so (sender, id) is unique enough for duplicate detection across restarts.
  #idPrefix = randomBytes(6).toString('base64url');
  #delivery: DeliveryTracker;
  #pending = new PendingDecryptions();
  #listRequested = false;
  #sync: DirectorySync;
  #seen = new SeenMessages();
  #fetchedUpto = 0;

  constructor(options: ChatClientOptions) {
    super();
    if (!isValidName(options.name))
      throw new ProtocolError(ErrorCode.BAD_NAME, 'invalid user name');
    this.name = options.name;
    this.identity = options.identity;
    this.keyPair = options.identity?.x25519 ?? generateX25519KeyPair();
    this.ownFingerprint = keyFingerprint(this.keyPair.publicKey);
    this.#connection = options.connection;
    this.#keys = new V1KeyCache(this.keyPair);
    this.#now = options.now ?? Date.now;
    this.#delivery = new DeliveryTracker(
      (e) => this.emit('event', e),
      this.#now,
      options.maxQueued ?? 100,
    );
    this.peers = new PeerBook({
      ...(options.trust ? { trust: options.trust } : {}),
      server: formatPin(options.connection.options.pin.sha256),
    });
    this.#sync = new DirectorySync(this, this.#now);
    this.trustCommands = new TrustCommands(this, (kind, text, code) =>
      this.notice(kind, text, code),
    );
    this.#connection.on('state', (state) => this.#onState(state));
    this.#connection.on('frame', (frame) => this.#onFrame(frame));
    this.#connection.on('badFrame', (error) =>
      this.notice(
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
  /** Protocol version the server announced in its welcome (1 for seed servers). */
  get serverVersion(): number {
    return this.#serverVersion;
  }
  get queued(): number {
    return this.#delivery.queued;
  }
  get unacknowledged(): number {
    return this.#delivery.unacknowledged;
  }

  start(): void {
    this.#connection.start();
  }

  async close(): Promise<void> {
    await this.#connection.close();
    this.#delivery.closed('client closed');
  }

  reconnect(): void {
    this.#connection.reconnectNow();
  }

  /** End-to-end encrypts `text` for `to` (or queues it while disconnected). */
  sendDirect(to: string, text: string, options: { action?: boolean } = {}): SendOutcome {
    if (!isValidName(to)) return { ok: false, reason: `invalid user name "${to}"` };
    const message: Outgoing = { id: this.#newId(), to, text, action: options.action ?? false };
    if (!this.#ready) {
      if (!this.#delivery.enqueue({ ...message })) {
        return {
          ok: false,
          reason: `not connected and ${this.#delivery.maxQueued} messages are already queued`,
        };
      }
      this.#emitOutgoing(message, Protection.legacy);
      return { ok: true, id: message.id };
    }
    const peer = this.peers.get(to);
    if (!peer) return { ok: false, reason: `${to} is not online (see /list)` };
    const refusal = this.#refusalFor(peer);
    if (refusal) return { ok: false, reason: refusal };
    this.#emitOutgoing(message, Protection.legacy, peer);
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

  /** The v1 fingerprint of a user's current X25519 key (our own included). */
  fingerprintOf(name: string): string | undefined {
    if (name.toLowerCase() === this.name.toLowerCase()) return this.ownFingerprint;
    return this.peers.get(name)?.fingerprint;
  }

  /** Directory as shown by /list. */
  peerSummaries(): PeerSummary[] {
    return this.peers.all().map((peer) => {
      const self = peer.name.toLowerCase() === this.name.toLowerCase();
      const status = this.peers.status(peer);
      return {
        name: peer.name,
        fingerprint: peer.identityFingerprint ?? peer.fingerprint,
        status: summaryStatus(self ? 'known' : status),
        ...(self ? { self: true } : {}),
      };
    });
  }

  /** Emits a notice line (info / warning / error) to the UI. */
  notice(kind: 'info' | 'warning' | 'error', text: string, code?: string): void {
    this.emit('event', { kind, ts: this.#now(), text, ...(code === undefined ? {} : { code }) });
  }

  /** Acknowledges stored messages once per turn (`fetched` up to the highest seq seen). */
  #mailboxAck(seq: number): void {
    const pending = this.#fetchedUpto;
    this.#fetchedUpto = Math.max(this.#fetchedUpto, seq);
    if (pending > 0) return;
    setImmediate(() => {
      const upto = this.#fetchedUpto;
      this.#fetchedUpto = 0;
      if (upto > 0) this.#connection.send({ type: 'fetched', upto });
    });
  }

  #refusalFor(peer: Peer): string | undefined {
    const status = this.peers.remember(peer);
    if (status === 'invalid') {
      return `${peer.name}'s key is not signed by their identity key: the server may be tampering; not encrypting`;
    }
    if (status === 'changed') {
      return `${peer.name}'s identity key changed (safety number changed): compare with /verify ${peer.name}, then /trust ${peer.name}`;
    }
    return undefined;
  }

  #newId(): string {
    return `${this.#idPrefix}-${(++this.#nextId).toString(36)}`;
  }

  #emitOutgoing(message: Outgoing, protection: MessageEvent['protection'], peer?: Peer): void {
    this.emit('event', {
      kind: 'message',
      ts: this.#now(),
      direction: 'out',
      from: this.name,
      to: peer?.name ?? message.to,
      text: message.text,
      protection,
      id: message.id,
      ...(message.action ? { action: true } : {}),
    });
  }

  #transmit(message: Outgoing): void {
    const peer = this.peers.get(message.to);
    if (!peer) {
      this.#delivery.report(message, 'failed', `${message.to} is not online`);
      return;
    }
    const refusal = this.#refusalFor(peer);
    if (refusal) {
      this.#delivery.report(message, 'failed', refusal);
      return;
    }
    let envelope: ReturnType<typeof sealV1>;
    try {
      const plaintext = message.action ? `/me ${message.text}` : message.text;
      envelope = sealV1(this.#keys.keyFor(peer.pub, peer.pubBytes), plaintext);
    } catch (error) {
      this.#delivery.report(
        message,
        'failed',
        `cannot encrypt for ${peer.name}: ${(error as Error).message}`,
      );
      return;
    }
    const frame = { type: 'relay', to: peer.name, from: this.name, ...envelope, id: message.id };
    if (!this.#connection.send(frame)) {
      this.#delivery.report(message, 'failed', 'connection lost');
      return;
    }
    this.#delivery.sent(message);
  }

  #hello(): void {
    const pub = toBase64(this.keyPair.publicKey);
    const socket = this.#connection.socket;
    if (!this.identity || !socket) {
      this.#connection.send({ type: 'hello', user: this.name, pub });
      return;
    }
    const exporter = socket.exportKeyingMaterial(
      HELLO_EXPORTER_BYTES,
      HELLO_EXPORTER_LABEL,
      Buffer.alloc(0),
    );
    const secret = this.identity.identity.secretKey;
    this.#connection.send({
      type: 'hello',
      user: this.name,
      pub,
      v: 2,
      caps: CLIENT_CAPS,
      idk: toBase64(this.identity.identity.publicKey),
      pubsig: toBase64(signPrekey(secret, this.keyPair.publicKey)),
      proof: toBase64(signHelloProof(secret, exporter, this.name)),
    });
  }

  #onState(state: ConnectionState): void {
    this.emit('event', { kind: 'connection', ts: this.#now(), status: state });
    if (state.state === 'connected') {
      this.#hello();
      return;
    }
    if (this.#ready) this.#delivery.connectionLost();
    this.#ready = false;
    if (state.state === 'closed') this.#delivery.closed('not connected');
  }

  #onFrame(frame: ParsedServerFrame): void {
    switch (frame.type) {
      case 'welcome': {
        this.#ready = true;
        this.#serverVersion = frame.v;
        this.#applySnapshot(frame.users, frame.peers, true);
        for (const message of this.#delivery.drain()) this.#transmit(message);
        return;
      }
      case 'users':
        this.#applySnapshot(frame.users, frame.peers, false);
        return;
      case 'presence':
        this.#sync.presence(frame.event, frame.user, frame.peer);
        this.#retryPending();
        return;
      case 'relay':
        if (!this.#seen.firstTime(frame)) return; // redelivered from the mailbox: shown once
        this.#onRelay(frame);
        if (frame.seq !== undefined) this.#mailboxAck(frame.seq);
        return;
      case 'server':
        this.emit('event', { kind: 'server', ts: this.#now(), text: frame.text });
        return;
      case 'ack':
        this.#delivery.acked(frame.id, frame.queued === true);
        return;
      case 'error':
        this.#onServerError(frame.code, frame.text, frame.ref);
        return;
      case 'unknown':
        return;
    }
  }

  #onServerError(code: string | undefined, text: string, ref: string | undefined): void {
    if (ref !== undefined && this.#delivery.refused(ref, text || code || 'refused by the server'))
      return;
    const refusedHello =
      code === ErrorCode.NAME_TAKEN ||
      code === ErrorCode.BAD_NAME ||
      code === ErrorCode.NAME_BOUND ||
      code === ErrorCode.IDENTITY_REQUIRED ||
      code === ErrorCode.BAD_PROOF;
    if ((!this.#ready && refusedHello) || code === ErrorCode.REPLACED) {
      this.emit(
        'fatal',
        new ProtocolError(code as ErrorCode, text || 'the server refused us', { fatal: true }),
      );
      return;
    }
    this.notice('error', text || 'error from server', code);
  }

  #applySnapshot(
    users: ReadonlyMap<string, string>,
    peers: ReadonlyMap<string, PeerInfo> | undefined,
    initial: boolean,
  ): void {
    const listRequested = this.#listRequested;
    this.#listRequested = false;
    this.#sync.snapshot(users, peers, initial);
    if (initial || listRequested) {
      this.emit('event', { kind: 'users', ts: this.#now(), users: this.peerSummaries() });
    }
    this.#retryPending();
  }

  #onRelay(relay: RelayDelivery): void {
    if (relay.alg !== ALG_V1) {
      this.notice(
        'warning',
        `message from ${relay.from} uses an unsupported algorithm "${relay.alg}"`,
      );
      return;
    }
    if (this.#tryDecrypt(relay, false)) return;
    const evicted = this.#pending.hold(relay, this.peers.version);
    if (evicted) this.#undecryptable(evicted, 'too many messages waiting for keys');
    if (!this.#listRequested) this.requestList();
  }

  /** Decrypts and emits; returns false when a directory refresh might help. */
  #tryDecrypt(relay: RelayDelivery, final: boolean): boolean {
    const self = relay.from.toLowerCase() === this.name.toLowerCase();
    const peer = self ? undefined : this.peers.get(relay.from);
    const pub = self ? toBase64(this.keyPair.publicKey) : peer?.pub;
    const pubBytes = self ? this.keyPair.publicKey : peer?.pubBytes;
    if (pub === undefined || pubBytes === undefined) {
      if (final) this.#undecryptable(relay, `no key known for ${relay.from}`);
      return final;
    }
    let text: string;
    try {
      text = openV1(this.#keys.keyFor(pub, pubBytes), relay);
    } catch (error) {
      if (final) this.#undecryptable(relay, (error as Error).message);
      return final;
    }
    const status: PeerStatus = peer ? this.peers.remember(peer) : 'verified';
    const action = text.startsWith('/me ');
    this.emit('event', {
      kind: 'message',
      ts: this.#now(),
      direction: 'in',
      from: peer?.name ?? this.name,
      to: this.name,
      text: action ? text.slice(4) : text,
      protection: Protection.legacy,
      fingerprint: peer?.identityFingerprint ?? peer?.fingerprint ?? this.ownFingerprint,
      ...(status === 'verified' ? { verified: true } : {}),
      keyStatus: status,
      ...(action ? { action: true } : {}),
      ...(relay.id === undefined ? {} : { id: relay.id }),
    });
    return true;
  }

  #retryPending(): void {
    if (this.#pending.size === 0) return;
    for (const relay of this.#pending.due(this.peers.version)) this.#tryDecrypt(relay, true);
  }

  #undecryptable(relay: RelayDelivery, reason: string): void {
    this.notice(
      'warning',
      `could not decrypt a message from ${relay.from} (${reason}); it may have been tampered with`,
      ErrorCode.DECRYPT_FAILED,
    );
  }
}

function summaryStatus(status: PeerStatus): PeerSummary['status'] {
  switch (status) {
    case 'legacy':
      return 'legacy';
    case 'verified':
      return 'verified';
    case 'changed':
    case 'invalid':
      return 'changed';
    default:
      return 'online';
  }
}
