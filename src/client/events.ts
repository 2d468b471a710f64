import type { RoomSummary } from '../protocol/index.js';

/**
 * Everything the chat client reports to its user interface. The terminal UI renders these
 * (ui/render.ts); `--json` prints each as one JSON line (the shapes are documented in the
 * README, scripts depend on them). Text fields hold peer- or server-supplied text as
 * received: renderers must sanitize, the JSON printer escapes through JSON.stringify.
 */

/** How a message was protected on the wire. */
export const Protection = {
  /** v2: X3DH + Double Ratchet, identity-authenticated, forward secret. */
  ratchet: 'e2ee-v2',
  /** v2 in a session set up with PQXDH (X25519 + ML-KEM-1024): post-quantum session setup. */
  pq: 'e2ee-pq',
  /** v1 (seed) envelope: static X25519 key, no identity, no forward secrecy. */
  legacy: 'e2ee-v1',
  /** Readable by the server (`/server`, server echoes). */
  server: 'server-readable',
  /** Room message: sender keys distributed over v2 sessions, signed per message. */
  room: 'e2ee-room',
} as const;
export type Protection = (typeof Protection)[keyof typeof Protection];

/**
 * queued: waiting for a connection (in this client); sent: written to the server;
 * delivered: the server handed it to the recipient's connection; stored: the recipient is
 * offline and the server keeps it for them; failed: not delivered, with a reason.
 */
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'stored' | 'failed';

export interface MessageEvent {
  kind: 'message';
  /** Milliseconds since the epoch, local clock. */
  ts: number;
  direction: 'in' | 'out';
  /** Sender name (our own name for outgoing messages). */
  from: string;
  /** Recipient: a user name (or a #room later). */
  to: string;
  text: string;
  protection: Protection;
  /** `/me` action. */
  action?: boolean;
  /** Peer identity verified by safety number (v2 only). */
  verified?: boolean;
  /**
   * Trust in the sender's key: legacy (v1, no identity), invalid (key signature failed),
   * new / known / verified, or changed (identity key differs from the one remembered).
   */
  keyStatus?: 'legacy' | 'invalid' | 'new' | 'known' | 'verified' | 'changed';
  /** Sender's key fingerprint as shown by /fp. */
  fingerprint?: string;
  /** Client message id (outgoing: for delivery status updates). */
  id?: string;
  /**
   * Incoming, kept by the server while we were offline: when the sender typed it, from
   * inside the encrypted content (the sender's clock; never a server time).
   */
  sentAt?: number;
}

export interface ServerTextEvent {
  kind: 'server';
  ts: number;
  text: string;
}

export interface PresenceEvent {
  kind: 'presence';
  ts: number;
  event: 'join' | 'leave';
  user: string;
  fingerprint?: string;
}

export interface PeerSummary {
  name: string;
  fingerprint: string;
  /** legacy = v1 peer (unauthenticated key). */
  status: 'online' | 'verified' | 'legacy' | 'changed';
  self?: boolean;
  /** Role in the room, for room member lists. */
  role?: 'owner' | 'op';
}

export interface UsersEvent {
  kind: 'users';
  ts: number;
  users: PeerSummary[];
  /** Set when the list is a room's members (`/who #room`, after joining). */
  room?: string;
}

/** Something happened in a room (peer-supplied fields: sanitize before display). */
export interface RoomEvent {
  kind: 'room';
  ts: number;
  room: string;
  event:
    | 'joined'
    | 'join'
    | 'part'
    | 'kick'
    | 'ban'
    | 'unban'
    | 'topic'
    | 'op'
    | 'deop'
    | 'password';
  user?: string;
  by?: string;
  text?: string;
  reason?: string;
}

export interface RoomListEvent {
  kind: 'rooms';
  ts: number;
  rooms: RoomSummary[];
}

export interface NoticeEvent {
  kind: 'info' | 'warning' | 'error';
  ts: number;
  text: string;
  /** Stable code (E_*) when the notice comes from a protocol or server error. */
  code?: string;
}

/**
 * A trust decision waiting for the user: a peer whose key changed, who offers less than
 * before (a downgrade), who is not the invited key, or a server that stopped offering what
 * it offered before. Shown loudly; sending and receiving stay blocked until `/trust`.
 */
export interface TrustEvent {
  kind: 'trust';
  ts: number;
  /** Whose trust is in question; absent when it is the server's. */
  user?: string;
  /** E_KEY_CHANGED, E_DOWNGRADE, E_INVITE_MISMATCH, E_BAD_KEY_SIGNATURE, E_SERVER_DOWNGRADE. */
  code: string;
  /** What accepting it gives up: `identity`, `forward secrecy`. */
  lost?: string[];
  /** The identity fingerprint now presented, if any. */
  fingerprint?: string;
  text: string;
}

/** A message that could not be authenticated or decrypted (it changed nothing). */
export interface UndecryptableEvent {
  kind: 'undecryptable';
  ts: number;
  /** Sender name as the server labelled it (not authenticated). */
  from: string;
  /** The room, for a room message. */
  room?: string;
  code: string;
  reason: string;
  id?: string;
}

export interface DeliveryEvent {
  kind: 'delivery';
  ts: number;
  id: string;
  to: string;
  status: DeliveryStatus;
  reason?: string;
}

/**
 * A file transfer (direction `up`: ours; `down`: offered to us). `offer`: a peer offers a
 * file (accept with `/accept ID`); `progress`: bytes moved so far, with the rate and the
 * time left (at most about once a second per transfer); `done` (a download: saved at
 * `path`); `failed` (with a `code`), `cancelled`, `rejected`. Names are peer-supplied.
 */
export interface TransferEvent {
  kind: 'transfer';
  ts: number;
  phase: 'offer' | 'started' | 'progress' | 'done' | 'failed' | 'cancelled' | 'rejected';
  /** Short id to type (`/accept 3f9a2c`). */
  id: string;
  direction: 'up' | 'down';
  /** The other side: the recipient (or #room) of an upload, the sender of a download. */
  peer: string;
  room?: string;
  name: string;
  mime?: string;
  size: number;
  /** Plaintext bytes moved so far. */
  bytes: number;
  /** Bytes per second over the transfer so far, and seconds left at that rate. */
  rate?: number;
  etaSeconds?: number;
  /** Where a finished download was saved. */
  path?: string;
  code?: string;
  reason?: string;
}

/** The answer to `/transfers`: every transfer this client knows, newest last. */
export interface TransferListEvent {
  kind: 'transfers';
  ts: number;
  transfers: Array<Omit<TransferEvent, 'kind' | 'ts' | 'phase'> & { state: string }>;
}

export type ConnectionState =
  | { state: 'connecting'; attempt: number }
  | { state: 'connected'; server: string; fingerprint: string }
  | { state: 'reconnecting'; attempt: number; inMs: number; reason: string }
  | { state: 'closed'; reason: string };

export interface ConnectionEvent {
  kind: 'connection';
  ts: number;
  status: ConnectionState;
}

export type ClientEvent =
  | MessageEvent
  | ServerTextEvent
  | PresenceEvent
  | UsersEvent
  | NoticeEvent
  | DeliveryEvent
  | ConnectionEvent
  | RoomEvent
  | RoomListEvent
  | TrustEvent
  | UndecryptableEvent
  | TransferEvent
  | TransferListEvent;

/** Result of a send request, for the UI's immediate feedback (its fate follows as events). */
export type SendOutcome = { ok: true; id: string } | { ok: false; reason: string };

type Unstamped<E> = E extends unknown ? Omit<E, 'ts'> : never;

/** An event without its time: the sink stamps it. */
export type EventBody = Unstamped<ClientEvent>;

export type NoticeKind = NoticeEvent['kind'];

/**
 * Where the client core reports what happens: the terminal UI, `--json` and (later) a GUI
 * listen to the events it passes on. Modules report through it and never learn who listens.
 */
export interface EventSink {
  /** Reports an event, stamped with the client's clock now. */
  event(body: EventBody): void;
  /** Reports an event that was kept since it happened (a withheld message), with its time. */
  emit(event: ClientEvent): void;
  /** An info, warning or error line; `code` is a stable E_* code. */
  notice(kind: NoticeKind, text: string, code?: string): void;
}

/** The sink that stamps events with `now` and hands them to `emit`. */
export function eventSink(emit: (event: ClientEvent) => void, now: () => number): EventSink {
  return {
    event: (body) => {
      const { kind, ...rest } = body;
      emit({ kind, ts: now(), ...rest } as ClientEvent);
    },
    emit,
    notice: (kind, text, code) =>
      emit({ kind, ts: now(), text, ...(code === undefined ? {} : { code }) }),
  };
}
