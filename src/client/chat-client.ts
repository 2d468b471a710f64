import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  Capability,
  ErrorCode,
  generateX25519KeyPair,
  isValidName,
  keyFingerprint,
  type PairwiseContent,
  type ParsedServerFrame,
  type PeerInfo,
  ProtocolError,
  type SenderKeyContent,
  toBase64,
  type X25519KeyPair,
} from '../protocol/index.js';
import type { ClientCore } from './client-core.js';
import { DeliveryTracker } from './direct/delivery.js';
import { IncomingMessages } from './direct/incoming.js';
import { OutgoingMessages, type SendOutcome } from './direct/outgoing.js';
import { BundleRequests } from './e2ee/bundle-requests.js';
import { ClientE2ee } from './e2ee/client-e2ee.js';
import { type ClientLimits, clientLimits } from './e2ee/limits.js';
import type { RatchetPeers } from './e2ee/ratchet-peers.js';
import { V1KeyCache } from './e2ee/v1-keys.js';
import { type ClientEvent, type ConnectionState, type PeerSummary, Protection } from './events.js';
import type { LocalIdentity } from './identity/keystore.js';
import type { ServerConnection } from './net/connection.js';
import { helloFrame, serverErrorAction } from './net/handshake.js';
import { formatPin } from './net/pinning.js';
import { RoomLimits } from './rooms/room-limits.js';
import { RoomManager } from './rooms/room-manager.js';
import type { StateDb } from './state/state-db.js';
import { DirectorySync } from './trust/directory-sync.js';
import { PeerBook, type PeerStatus } from './trust/peer-book.js';
import { peerSummary } from './trust/peer-summaries.js';
import { TrustCommands } from './trust/trust-commands.js';
import type { TrustStore } from './trust/trust-store.js';

export type { SendOutcome } from './direct/outgoing.js';

export interface ChatClientOptions {
  name: string;
  connection: ServerConnection;
  /** Long-term identity: enables the v2 hello. Without it the client speaks v1 only. */
  identity?: LocalIdentity;
  trust?: TrustStore;
  /** The identity's state, opened and locked by the caller (with `identity`). */
  state?: StateDb;
  /** Or the config directory to open it in (tests). Without either: no ratchet sessions. */
  configDir?: string;
  /** Client limits (tests use small ones). */
  limits?: Partial<ClientLimits>;
  now?: () => number;
  /** Messages typed while disconnected, kept until the next welcome. */
  maxQueued?: number;
}

const PING_LINE = '{"type":"ping"}\n';

/**
 * The chat client without a terminal: handshake (v1, or v2 with an identity proof),
 * directory and trust, end-to-end encryption (v1 envelopes for legacy peers, X3DH + Double
 * Ratchet for v2 peers), delivery tracking. The terminal UI and `--json` mode both listen to
 * its `event`s and call its methods.
 */
export class ChatClient
  extends EventEmitter<{ event: [ClientEvent]; fatal: [Error] }>
  implements ClientCore
{
  readonly name: string;
  readonly keyPair: X25519KeyPair;
  readonly identity: LocalIdentity | undefined;
  readonly ownFingerprint: string;
  readonly peers: PeerBook;
  readonly trust: TrustStore | undefined;
  readonly serverPin: string;
  readonly v1Keys: V1KeyCache;
  readonly trustCommands: TrustCommands;
  /** Rooms (v2 with an identity). */
  readonly rooms: RoomManager;
  #e2ee: ClientE2ee | undefined;
  #connection: ServerConnection;
  #now: () => number;
  #ready = false;
  /** Set at the first welcome: later refusals of the name may be our own stale session. */
  #welcomedOnce = false;
  #serverVersion = 1;
  #serverCaps = new Set<string>();
  #delivery: DeliveryTracker;
  #outgoing: OutgoingMessages;
  #incoming: IncomingMessages;
  #bundles: BundleRequests;
  #listRequested = false;
  #sync: DirectorySync;

  constructor(options: ChatClientOptions) {
    super();
    if (!isValidName(options.name))
      throw new ProtocolError(ErrorCode.BAD_NAME, 'invalid user name');
    this.name = options.name;
    this.identity = options.identity;
    this.trust = options.trust;
    this.keyPair = options.identity?.x25519 ?? generateX25519KeyPair();
    this.ownFingerprint = keyFingerprint(this.keyPair.publicKey);
    this.#connection = options.connection;
    this.serverPin = formatPin(options.connection.options.pin.sha256);
    this.v1Keys = new V1KeyCache(this.keyPair);
    this.#now = options.now ?? Date.now;
    this.#delivery = new DeliveryTracker(
      (e) => this.emit('event', e),
      this.#now,
      options.maxQueued ?? 100,
    );
    this.peers = new PeerBook({
      ...(options.trust ? { trust: options.trust } : {}),
      server: this.serverPin,
      serverRatchet: () => this.#serverCaps.has(Capability.ratchet),
      serverSpk: () => this.#serverCaps.has(Capability.spk),
    });
    this.#bundles = new BundleRequests((frame) => this.send(frame));
    if (options.identity && (options.state || options.configDir)) {
      this.#e2ee = new ClientE2ee({
        identity: options.identity,
        ...(options.state ? { state: options.state } : { configDir: options.configDir! }),
        now: this.#now,
        ...(options.limits ? { limits: options.limits } : {}),
        requestBundle: (user) => this.#bundles.request(user),
      });
    }
    // Random per run, so (sender, id) is unique enough for duplicate detection across restarts.
    this.#outgoing = new OutgoingMessages(
      this,
      this.#delivery,
      randomBytes(6).toString('base64url'),
    );
    this.#incoming = new IncomingMessages(this);
    this.rooms = new RoomManager(this, new RoomLimits(clientLimits(options.limits), this.#now));
    this.#sync = new DirectorySync(this);
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
  /** Ratchet sessions, when this client has an identity and the server offers them. */
  get ratchet(): RatchetPeers | undefined {
    return this.#serverCaps.has(Capability.ratchet) ? this.#e2ee?.ratchet : undefined;
  }
  /** Our keys as the directory should list them (Base64). */
  get ownKeys(): { pub: string; idk?: string } {
    const pub = toBase64(this.keyPair.publicKey);
    return this.identity ? { pub, idk: toBase64(this.identity.identity.publicKey) } : { pub };
  }
  /** Whether the server's welcome offered `cap`. */
  serverOffers(cap: string): boolean {
    return this.#serverCaps.has(cap);
  }
  /** Shows messages withheld from senders who are now in good standing (after `/trust`). */
  releaseWithheld(): number {
    return this.#incoming.releaseWithheld();
  }
  get queued(): number {
    return this.#delivery.queued;
  }
  get unacknowledged(): number {
    return this.#delivery.unacknowledged;
  }

  now(): number {
    return this.#now();
  }
  send(frame: object): boolean {
    return this.#connection.send(frame);
  }
  emitEvent(event: ClientEvent): void {
    this.emit('event', event);
  }
  refreshDirectory(): void {
    if (!this.#listRequested) this.requestList();
  }
  onSenderKey(from: string, identity: string, content: SenderKeyContent, status: PeerStatus): void {
    this.rooms.onSenderKey(from, identity, content, status);
  }
  sendControl(to: string, content: PairwiseContent): Promise<boolean> {
    return this.#outgoing.sendControl(to, content);
  }

  start(): void {
    for (const notice of this.#e2ee?.notices.splice(0) ?? [])
      this.notice(notice.kind, notice.text, notice.code);
    // A signed prekey rotated by maintenance goes up now if the server can take it (else the
    // count after the next welcome shows it missing).
    this.#e2ee?.startMaintenance(
      (frame) =>
        this.#ready && !!this.ratchet && this.serverOffers(Capability.spk) && this.send(frame),
    );
    this.#connection.start();
  }

  async close(): Promise<void> {
    await this.#connection.close();
    this.#delivery.closed('client closed');
    this.#e2ee?.close();
  }

  reconnect(): void {
    this.#connection.reconnectNow();
  }

  /** End-to-end encrypts `text` for `to` (or queues it while disconnected). */
  sendDirect(to: string, text: string, options: { action?: boolean } = {}): SendOutcome {
    return this.#outgoing.send(to, text, options.action ?? false);
  }

  /** Whether messages to `name` are forward secret (v2 ratchet) rather than legacy v1. */
  forwardSecretWith(name: string): boolean {
    return this.#outgoing.usesRatchet(this.peers.get(name));
  }

  /** Sends server-readable text (the server answers `echo: …`). */
  sendServer(text: string): SendOutcome {
    if (!this.#ready) return { ok: false, reason: 'not connected' };
    this.send({ type: 'chat', text });
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
    return this.send({ type: 'list' });
  }

  /** The v1 fingerprint of a user's current X25519 key (our own included). */
  fingerprintOf(name: string): string | undefined {
    if (name.toLowerCase() === this.name.toLowerCase()) return this.ownFingerprint;
    return this.peers.get(name)?.fingerprint;
  }

  /** Directory as shown by /list. */
  peerSummaries(): PeerSummary[] {
    return this.peers.all().map((peer) => peerSummary(this.peers, this.name, peer.name));
  }

  /** Emits a notice line (info / warning / error) to the UI. */
  notice(kind: 'info' | 'warning' | 'error', text: string, code?: string): void {
    this.emit('event', { kind, ts: this.#now(), text, ...(code === undefined ? {} : { code }) });
  }

  #hello(): void {
    const spk = this.#e2ee?.ratchet.state.prekeys.upload();
    this.send(helloFrame(this.name, this.keyPair, this.identity, this.#connection.socket, spk));
  }

  #onState(state: ConnectionState): void {
    this.emit('event', { kind: 'connection', ts: this.#now(), status: state });
    if (state.state === 'connected') {
      this.#hello();
      return;
    }
    if (this.#ready) this.#delivery.connectionLost();
    this.#ready = false;
    this.#bundles.failAll('connection lost');
    if (state.state === 'closed') this.#delivery.closed('not connected');
  }

  #onFrame(frame: ParsedServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.#ready = true;
        this.#welcomedOnce = true;
        this.#connection.accepted();
        this.#serverVersion = frame.v;
        this.#serverCaps = new Set(frame.caps);
        this.#sync.welcome(frame.caps);
        if (frame.v >= 2 && this.#serverCaps.has(Capability.ping))
          this.#connection.startHeartbeat(PING_LINE);
        this.#applySnapshot(frame.users, frame.peers, true);
        for (const message of this.#delivery.drain()) this.#outgoing.transmit(message);
        if (this.#serverCaps.has(Capability.rooms)) this.rooms.rejoin();
        return;
      case 'users':
        this.#applySnapshot(frame.users, frame.peers, false);
        return;
      case 'presence':
        this.#sync.presence(frame.event, frame.user, frame.peer);
        this.#incoming.retryPending();
        return;
      case 'relay':
        this.#incoming.handle(frame);
        return;
      case 'server':
        this.emit('event', { kind: 'server', ts: this.#now(), text: frame.text });
        return;
      case 'ack':
        this.#delivery.acked(frame.id, frame.queued === true);
        return;
      case 'bundle':
        this.#bundles.resolve(frame);
        return;
      case 'prekeys':
        if (this.ratchet) this.#e2ee?.onCount(frame, this.#serverCaps.has(Capability.spk), this);
        return;
      case 'error':
        this.#onServerError(frame.code, frame.text, frame.ref);
        return;
      case 'joined':
      case 'room':
      case 'roommsg':
      case 'who':
      case 'rooms':
      case 'motd':
      case 'dropped':
        this.rooms.onFrame(frame);
        return;
      case 'pong': // the connection's heartbeat already counted it
      case 'unknown':
        return;
    }
  }

  #onServerError(code: string | undefined, text: string, ref: string | undefined): void {
    if (ref !== undefined && this.#bundles.reject(ref, code, text)) return;
    if (ref !== undefined && this.#delivery.refused(ref, text || code || 'refused by the server'))
      return;
    const action = serverErrorAction(code, {
      ready: this.#ready,
      welcomedBefore: this.#welcomedOnce,
      reconnects: this.#connection.reconnects,
    });
    if (action === 'retry') {
      // A legacy (v1) session cannot prove it is us, so the server keeps the old one until
      // it notices the dead link: keep trying rather than give up the name.
      this.notice(
        'warning',
        `the server still holds the name ${this.name} for your previous connection; retrying`,
        code,
      );
      this.#connection.retryLater('name still held by the previous connection');
      return;
    }
    if (action === 'fatal') {
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
    if (initial || listRequested)
      this.emit('event', { kind: 'users', ts: this.#now(), users: this.peerSummaries() });
    this.#incoming.retryPending();
  }
}
