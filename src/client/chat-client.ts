import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  Capability,
  DEFAULT_MAX_LINE_BYTES,
  type FileContent,
  type ParsedServerFrame,
} from '../protocol/index.js';
import { systemTimers, type Timers } from './clock.js';
import { DeliveryTracker } from './direct/delivery.js';
import { IncomingMessages } from './direct/incoming.js';
import { OutgoingMessages } from './direct/outgoing.js';
import { senderFieldFor } from './direct/relay-frame.js';
import { BundleRequests } from './e2ee/bundle-requests.js';
import { ClientE2ee } from './e2ee/client-e2ee.js';
import { type ClientLimits, clientLimits } from './e2ee/limits.js';
import type { RatchetPeers } from './e2ee/ratchet-peers.js';
import { V1KeyCache } from './e2ee/v1-keys.js';
import {
  type ClientEvent,
  type ConnectionState,
  type EventSink,
  eventSink,
  type PeerSummary,
  Protection,
  type SendOutcome,
} from './events.js';
import type { LocalIdentity } from './identity/keystore.js';
import { LocalUser } from './identity/local-user.js';
import type { ServerConnection } from './net/connection.js';
import { formatPin } from './net/pinning.js';
import { ServerSession } from './net/server-session.js';
import { RoomLimits } from './rooms/room-limits.js';
import { RoomManager } from './rooms/room-manager.js';
import type { StateDb } from './state/state-db.js';
import type { TransferManager } from './transfers/transfer-manager.js';
import { DirectorySync } from './trust/directory-sync.js';
import { PeerBook } from './trust/peer-book.js';
import { TrustActions } from './trust/trust-actions.js';
import type { TrustStore } from './trust/trust-store.js';
import { WithheldMessages } from './trust/withheld.js';

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
  /** The client's clock and timers (tests move them). */
  now?: () => number;
  timers?: Timers;
  /** Messages typed while disconnected, kept until the next welcome. */
  maxQueued?: number;
  /**
   * File transfers (transfers/client-transfers.ts `createTransfers`), given what they need
   * of this client; without it, offers are ignored and `/send` is refused.
   */
  transfers?: (client: ChatClient, sink: EventSink, link: ServerSession) => TransferManager;
}

/** Handles each server frame type (one entry per type: a new type fails to compile until routed). */
type FrameRoutes = {
  [T in ParsedServerFrame['type']]: (frame: Extract<ParsedServerFrame, { type: T }>) => void;
};

/**
 * The chat client without a user interface: the composition of its parts (net/, direct/,
 * rooms/, trust/, e2ee/), each given the few things it needs, and the one place server
 * frames are routed to them. The terminal UI, `--json` mode (and a GUI) listen to its
 * `event`s and call its methods; a `fatal` error ends the session.
 */
export class ChatClient extends EventEmitter<{ event: [ClientEvent]; fatal: [Error] }> {
  readonly user: LocalUser;
  /** Who is online, and how far each key can be trusted. */
  readonly peers: PeerBook;
  /** Rooms (v2 with an identity). */
  readonly rooms: RoomManager;
  /** `/verify` and `/trust`. */
  readonly trust: TrustActions;
  #connection: ServerConnection;
  #now: () => number;
  #sink: EventSink;
  #session: ServerSession;
  #e2ee: ClientE2ee | undefined;
  #bundles: BundleRequests;
  #delivery: DeliveryTracker;
  #outgoing: OutgoingMessages;
  #incoming: IncomingMessages;
  #directory: DirectorySync;
  /** File transfers, when this client has them. */
  readonly transfers: TransferManager | undefined;
  /** The client's timers (injected in tests). */
  readonly timers: Timers;

  constructor(options: ChatClientOptions) {
    super();
    const now = options.now ?? Date.now;
    const timers = options.timers ?? systemTimers;
    this.timers = timers;
    const user = new LocalUser(options.name, options.identity);
    const connection = options.connection;
    const sink = eventSink((event) => this.emit('event', event), now);
    this.user = user;
    this.#connection = connection;
    this.#now = now;
    this.#sink = sink;
    this.#session = new ServerSession({
      user,
      connection,
      sink,
      signedPrekey: () => this.#e2ee?.ratchet.state.prekeys.upload(),
      kemLastResort: () => this.#e2ee?.ratchet.state.kemPrekeys.lastResort,
      refused: (error) => this.emit('fatal', error),
    });
    const link = this.#session;
    const peers = new PeerBook({
      ...(options.trust ? { trust: options.trust } : {}),
      server: formatPin(connection.options.pin.sha256),
      serverRatchet: () => link.offers(Capability.ratchet),
      serverSpk: () => link.offers(Capability.spk),
      serverPq: () => link.offers(Capability.pq),
    });
    this.peers = peers;
    this.#bundles = new BundleRequests((frame) => link.send(frame), timers);
    if (options.identity && (options.state || options.configDir)) {
      this.#e2ee = new ClientE2ee({
        identity: options.identity,
        ...(options.state ? { state: options.state } : { configDir: options.configDir! }),
        now,
        timers,
        ...(options.limits ? { limits: options.limits } : {}),
        requestBundle: (name) => this.#bundles.request(name),
      });
    }
    const ratchet = () => this.ratchet;
    const v1Keys = new V1KeyCache(user.keyPair);
    const withheld = new WithheldMessages();
    this.#delivery = new DeliveryTracker(sink, options.maxQueued ?? 100);
    this.#directory = new DirectorySync({ user, peers, link, sink });
    this.#outgoing = new OutgoingMessages({
      user,
      link,
      peers,
      ratchet,
      v1Keys,
      delivery: this.#delivery,
      sink,
      idPrefix: randomBytes(6).toString('base64url'),
      now,
    });
    this.rooms = new RoomManager({
      user,
      link,
      peers,
      keys: this.#outgoing,
      limits: new RoomLimits(clientLimits(options.limits), now),
      sink,
      now,
      onFileOffer: (from, content, room) => this.transfers?.offered(from, content, room),
    });
    this.#incoming = new IncomingMessages({
      user,
      send: (frame) => link.send(frame),
      senderField: () => senderFieldFor(link.version, user.name),
      peers,
      ratchet,
      v1Keys,
      withheld,
      senderKeys: this.rooms,
      onFileOffer: (from, content) => this.transfers?.offered(from, content),
      refreshDirectory: () => this.#directory.refresh(),
      sink,
      now,
    });
    this.trust = new TrustActions({
      user,
      peers,
      withheld,
      sink,
      serverOffers: (cap) => link.offers(cap),
    });
    this.transfers = options.transfers?.(this, sink, link);
    connection.on('state', (state) => this.#onState(state));
    connection.on('frame', (frame) => this.#route(frame));
    connection.on('badFrame', (error) =>
      sink.notice(
        'warning',
        `ignored a malformed frame from the server: ${error.message}`,
        error.code,
      ),
    );
    connection.on('pinRejected', (error) => this.emit('fatal', error));
  }

  get name(): string {
    return this.user.name;
  }
  get identity(): LocalIdentity | undefined {
    return this.user.identity;
  }
  /** Welcomed by the server on the current connection. */
  get ready(): boolean {
    return this.#session.ready;
  }
  /**
   * The longest line the server takes: what its welcome announced, else the protocol's
   * default (seed servers and older v2 servers do not announce it).
   */
  get maxLineBytes(): number {
    return this.#session.maxLine ?? DEFAULT_MAX_LINE_BYTES;
  }
  /** Whether the server welcomed this client at least once (its name and key accepted). */
  get welcomedOnce(): boolean {
    return this.#session.welcomedOnce;
  }
  get connectionState(): ConnectionState {
    return this.#connection.state;
  }
  /** Protocol version the server announced in its welcome (1 for seed servers). */
  get serverVersion(): number {
    return this.#session.version;
  }
  /** Ratchet sessions, when this client has an identity and the server offers them. */
  get ratchet(): RatchetPeers | undefined {
    return this.#session.offers(Capability.ratchet) ? this.#e2ee?.ratchet : undefined;
  }
  /** Whether the server's welcome offered `cap`. */
  serverOffers(cap: string): boolean {
    return this.#session.offers(cap);
  }
  /** Messages waiting for a connection. */
  get queued(): number {
    return this.#delivery.queued;
  }
  /** Messages sent that the server has not confirmed yet. */
  get unacknowledged(): number {
    return this.#delivery.unacknowledged;
  }
  /** The client's clock. */
  now(): number {
    return this.#now();
  }

  start(): void {
    for (const notice of this.#e2ee?.notices.splice(0) ?? [])
      this.#sink.notice(notice.kind, notice.text, notice.code);
    // A signed prekey rotated by maintenance goes up now if the server can take it (else the
    // count after the next welcome shows it missing).
    this.#e2ee?.startMaintenance(
      (frame) =>
        this.ready &&
        !!this.ratchet &&
        this.serverOffers(Capability.spk) &&
        this.#session.send(frame),
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

  /** Sends a file descriptor end to end: over the ratchet to a user, under our sender key to a #room. */
  async sendFileOffer(target: string, content: FileContent): Promise<true | string> {
    if (target.startsWith('#')) return this.rooms.sendFile(target, content);
    const sent = await this.#outgoing.sendControl(target, content);
    return sent
      ? true
      : `no end-to-end session with ${target} (a legacy client, or a key in question)`;
  }

  /** Sends server-readable text (the server answers `echo: …`). */
  sendServer(text: string): SendOutcome {
    if (!this.ready) return { ok: false, reason: 'not connected' };
    this.#session.send({ type: 'chat', text });
    this.#sink.event({
      kind: 'message',
      direction: 'out',
      from: this.user.name,
      to: '(server)',
      text,
      protection: Protection.server,
    });
    return { ok: true, id: '' };
  }

  /** Asks the server for the directory; the answer arrives as a `users` event. */
  requestList(): boolean {
    return this.#directory.request();
  }

  /** Directory as shown by /list. */
  peerSummaries(): PeerSummary[] {
    return this.#directory.summaries();
  }

  #onState(state: ConnectionState): void {
    this.#sink.event({ kind: 'connection', status: state });
    if (state.state === 'connected') {
      this.#session.hello();
      return;
    }
    if (this.#session.lost()) this.#delivery.connectionLost();
    this.transfers?.disconnected();
    this.#bundles.failAll('connection lost');
    if (state.state === 'closed') this.#delivery.closed('not connected');
  }

  #route(frame: ParsedServerFrame): void {
    (this.#routes[frame.type] as (frame: ParsedServerFrame) => void)(frame);
  }

  #routes: FrameRoutes = {
    welcome: (frame) => {
      this.#session.welcome(frame);
      this.#e2ee?.publisher.connected();
      this.#directory.welcome(frame.caps);
      this.#directory.snapshot(frame.users, frame.peers, true);
      this.#incoming.retryPending();
      for (const message of this.#delivery.drain()) this.#outgoing.transmit(message);
      if (this.#session.offers(Capability.rooms)) this.rooms.rejoin();
      this.transfers?.welcomed();
    },
    users: (frame) => {
      this.#directory.snapshot(frame.users, frame.peers, false);
      this.#incoming.retryPending();
    },
    presence: (frame) => {
      this.#directory.presence(frame.event, frame.user, frame.peer);
      this.#incoming.retryPending();
    },
    relay: (frame) => this.#incoming.handle(frame),
    server: (frame) => this.#sink.event({ kind: 'server', text: frame.text }),
    ack: (frame) =>
      frame.fetched === true
        ? this.#delivery.fetched(frame.id)
        : this.#delivery.acked(frame.id, frame.queued === true),
    bundle: (frame) => this.#bundles.resolve(frame),
    prekeys: (frame) => {
      if (this.ratchet)
        this.#e2ee?.onCount(
          frame,
          this.#session.offers(Capability.spk),
          this.#session.offers(Capability.pq),
          {
            send: (upload) => this.#session.send(upload),
            notice: (kind, text, code) => this.#sink.notice(kind, text, code),
          },
        );
    },
    error: (frame) => {
      const { ref, code, text } = frame;
      if (ref !== undefined && this.#bundles.reject(ref, code, text)) return;
      if (ref !== undefined && this.transfers?.refused(ref, code, text)) return;
      if (ref !== undefined && this.#delivery.refused(ref, text || code || 'refused by the server'))
        return;
      this.#session.error(code, text);
    },
    joined: (frame) => this.rooms.onFrame(frame),
    room: (frame) => this.rooms.onFrame(frame),
    roommsg: (frame) => this.rooms.onFrame(frame),
    who: (frame) => this.rooms.onFrame(frame),
    rooms: (frame) => this.rooms.onFrame(frame),
    motd: (frame) => this.rooms.onFrame(frame),
    dropped: (frame) => this.rooms.onFrame(frame),
    fok: (frame) => this.transfers?.ok(frame),
    fack: (frame) => this.transfers?.ack(frame),
    fstate: (frame) => this.transfers?.state(frame),
    fchunk: (frame) => this.transfers?.chunk(frame),
    pong: () => {}, // the connection's heartbeat already counted it
    unknown: () => {},
  };
}
