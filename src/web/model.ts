import type {
  ClientEvent,
  ConnectionState,
  DeliveryStatus,
  MessageEvent,
  PeerSummary,
  RoomEvent,
  TransferEvent,
  TrustEvent,
} from '../client/events.js';
import type { CoreMessage } from '../client/web/bridge-messages.js';
import type { RoomSummary } from '../protocol/index.js';
import { roomEventText } from './room-text.js';
import { bytesText, TransferBook, transferConversation } from './transfers.js';

export { roomEventText };

/**
 * The page's picture of the chat, built only from the core's events (the `--json` shapes):
 * conversations with unread counts, members, delivery marks, trust banners. Pure (no DOM),
 * so it is tested in Node. Every string in it is peer text: the view renders it as text.
 */

/** The conversation that holds server text, notices and presence. */
export const STATUS = '*status';
const MAX_LINES = 1000;
const MAX_CONVERSATIONS = 200;

export interface Line {
  seq: number;
  ts: number;
  kind: 'message' | 'notice' | 'event' | 'trust' | 'undecryptable';
  text: string;
  from?: string;
  direction?: 'in' | 'out';
  protection?: string;
  action?: boolean;
  keyStatus?: string;
  verified?: boolean;
  id?: string;
  delivery?: DeliveryStatus;
  reason?: string;
  level?: 'info' | 'warning' | 'error';
  sentAt?: number;
}

export interface Conversation {
  key: string;
  name: string;
  room: boolean;
  lines: Line[];
  unread: number;
  /** Room members (rooms), as the last member list said. */
  members: PeerSummary[];
  topic?: string;
  joined: boolean;
  /** A trust decision waiting (key changed, downgrade): sending is blocked until /trust. */
  trust?: TrustEvent;
}

export interface Notification {
  title: string;
  body: string;
  conversation: string;
}

const key = (name: string) => name.toLowerCase();

/** Where a message belongs: the room, else the other party. */
export function conversationOf(event: MessageEvent): string {
  if (event.to.startsWith('#')) return event.to;
  if (event.to === '(server)') return STATUS;
  return event.direction === 'in' ? event.from : event.to;
}

export class ChatModel {
  self = '';
  identity: string | undefined;
  connection: ConnectionState | undefined;
  /** Whether the page's own link to the local core is up. */
  linked = false;
  conversations = new Map<string, Conversation>();
  active = STATUS;
  /** The server's directory (online users), from the last `users` event without a room. */
  peers: PeerSummary[] = [];
  rooms: RoomSummary[] = [];
  serverTrust: TrustEvent | undefined;
  lastNotice: Line | undefined;
  safety: { user: string; digits?: string; reason?: string } | undefined;
  /** File transfers (kept across a replay: they are keyed by id). */
  transfers = new TransferBook();
  #seq = 0;
  /** Banners taken down by a `/trust` the core has not answered yet. */
  #pendingTrust = new Map<string, TrustEvent>();

  constructor() {
    this.reset();
  }

  reset(): void {
    this.conversations = new Map();
    this.conversation(STATUS, 'status');
    this.peers = [];
    this.rooms = [];
    this.serverTrust = undefined;
    this.lastNotice = undefined;
  }

  /** The conversation with `name`, made if new (bounded). */
  conversation(name: string, label = name): Conversation {
    const k = name === STATUS ? STATUS : key(name);
    let found = this.conversations.get(k);
    if (!found) {
      found = {
        key: k,
        name: label,
        room: name.startsWith('#'),
        lines: [],
        unread: 0,
        members: [],
        joined: false,
      };
      if (this.conversations.size >= MAX_CONVERSATIONS) {
        const idle = [...this.conversations.values()].find(
          (c) => c.key !== STATUS && c.key !== this.active,
        );
        if (idle) this.conversations.delete(idle.key);
      }
      this.conversations.set(k, found);
    }
    return found;
  }

  /** Conversations in the order the list shows them: status, rooms, then people. */
  list(): Conversation[] {
    const all = [...this.conversations.values()];
    const rest = all.filter((c) => c.key !== STATUS);
    return [
      ...all.filter((c) => c.key === STATUS),
      ...rest.filter((c) => c.room).sort((a, b) => a.key.localeCompare(b.key)),
      ...rest.filter((c) => !c.room).sort((a, b) => a.key.localeCompare(b.key)),
    ];
  }

  select(name: string): void {
    const conversation = this.conversation(name);
    this.active = conversation.key;
    conversation.unread = 0;
  }

  get current(): Conversation {
    return this.conversation(this.active === STATUS ? STATUS : this.active);
  }

  /** A peer from the directory (key status, fingerprint), if online. */
  peer(name: string): PeerSummary | undefined {
    return this.peers.find((p) => key(p.name) === key(name));
  }

  /** Applies one message from the core; returns a desktop notification to show, if any. */
  receive(message: CoreMessage, focused: boolean): Notification | undefined {
    switch (message.type) {
      case 'hello':
        this.self = message.self;
        this.identity = message.identity;
        this.transfers.maxUpload = message.maxUpload;
        return undefined;
      case 'replay':
        this.reset();
        for (const event of message.events) this.apply(event, false, true);
        return undefined;
      case 'event':
        return this.apply(message.event, focused, false);
      case 'safety':
        this.safety = {
          user: message.user,
          ...(message.digits ? { digits: message.digits } : {}),
          ...(message.reason ? { reason: message.reason } : {}),
        };
        return undefined;
      case 'clear':
        this.current.lines = [];
        return undefined;
      case 'bye':
        this.linked = false;
        this.#notice('error', message.reason, Date.now());
        return undefined;
    }
  }

  #push(conversation: Conversation, line: Omit<Line, 'seq'>): Line {
    const full = { ...line, seq: ++this.#seq };
    conversation.lines.push(full);
    if (conversation.lines.length > MAX_LINES) conversation.lines.splice(0, MAX_LINES / 10);
    return full;
  }

  /** A notice of the page itself (not from the core). */
  note(level: 'info' | 'warning' | 'error', text: string): void {
    this.#notice(level, text, Date.now());
  }

  #notice(level: 'info' | 'warning' | 'error', text: string, ts: number, code?: string): void {
    const line = this.#push(this.conversation(STATUS), {
      ts,
      kind: 'notice',
      level,
      text,
      ...(code ? { reason: code } : {}),
    });
    this.lastNotice = line;
  }

  /** Applies one client event. `focused`: the page is visible and in front. */
  apply(event: ClientEvent, focused: boolean, replay: boolean): Notification | undefined {
    switch (event.kind) {
      case 'message': {
        const conversation = this.conversation(conversationOf(event));
        this.#push(conversation, {
          ts: event.ts,
          kind: 'message',
          text: event.text,
          from: event.from,
          direction: event.direction,
          protection: event.protection,
          ...(event.action ? { action: true } : {}),
          ...(event.keyStatus ? { keyStatus: event.keyStatus } : {}),
          ...(event.verified ? { verified: true } : {}),
          ...(event.id ? { id: event.id } : {}),
          ...(event.sentAt ? { sentAt: event.sentAt } : {}),
          ...(event.direction === 'out' && event.id ? { delivery: 'sent' as const } : {}),
        });
        if (event.direction === 'out') return undefined;
        const seen = conversation.key === this.active && focused;
        if (!seen) conversation.unread += 1;
        if (replay || seen) return undefined;
        return {
          title: conversation.room ? `${event.from} in ${conversation.name}` : event.from,
          body: event.action ? `* ${event.from} ${event.text}` : event.text,
          conversation: conversation.key,
        };
      }
      case 'delivery': {
        const conversation = this.conversations.get(key(event.to));
        const line = conversation?.lines.findLast(
          (l) => l.id === event.id && l.direction === 'out',
        );
        if (line) {
          line.delivery = event.status;
          if (event.reason) line.reason = event.reason;
        }
        return undefined;
      }
      case 'server':
        this.#push(this.conversation(STATUS), {
          ts: event.ts,
          kind: 'message',
          from: '(server)',
          direction: 'in',
          protection: 'server-readable',
          text: event.text,
        });
        return undefined;
      case 'presence': {
        if (event.event === 'leave')
          this.peers = this.peers.filter((p) => key(p.name) !== key(event.user));
        else if (!this.peer(event.user))
          this.peers = [
            ...this.peers,
            { name: event.user, fingerprint: event.fingerprint ?? '', status: 'online' },
          ];
        const text = `${event.user} ${event.event === 'join' ? 'is online' : 'went offline'}`;
        this.#push(this.conversation(STATUS), { ts: event.ts, kind: 'event', text });
        const direct = this.conversations.get(key(event.user));
        if (direct) this.#push(direct, { ts: event.ts, kind: 'event', text });
        return undefined;
      }
      case 'users':
        if (event.room) this.conversation(event.room).members = event.users;
        else this.peers = event.users;
        return undefined;
      case 'info':
      case 'warning':
      case 'error':
        this.#notice(event.kind, event.text, event.ts, event.code);
        if (event.code === 'E_TRUST')
          for (const [k, trust] of this.#pendingTrust) {
            const conversation = this.conversations.get(k);
            if (conversation) conversation.trust = trust;
          }
        if (event.kind === 'info' || event.code === 'E_TRUST') this.#pendingTrust.clear();
        return undefined;
      case 'connection':
        this.connection = event.status;
        return undefined;
      case 'room':
        this.#room(event);
        return undefined;
      case 'rooms':
        this.rooms = event.rooms;
        return undefined;
      case 'trust': {
        if (event.user === undefined) this.serverTrust = event;
        else {
          const conversation = this.conversation(event.user);
          conversation.trust = event;
          this.#push(conversation, {
            ts: event.ts,
            kind: 'trust',
            level: 'error',
            text: event.text,
            reason: event.code,
          });
        }
        this.#notice('error', event.text, event.ts, event.code);
        return undefined;
      }
      case 'transfers':
        this.transfers.apply(event);
        return undefined;
      case 'transfer':
        return this.#transfer(event, focused, replay);
      case 'undecryptable': {
        const conversation = this.conversation(event.room ?? event.from);
        this.#push(conversation, {
          ts: event.ts,
          kind: 'undecryptable',
          level: 'error',
          from: event.from,
          text: `a message from ${event.from} could not be opened: ${event.reason}`,
          reason: event.code,
        });
        return undefined;
      }
    }
  }

  /** A transfer event: the transfer list, and a line for an offer or a received file. */
  #transfer(event: TransferEvent, focused: boolean, replay: boolean): Notification | undefined {
    this.transfers.apply(event);
    if (event.direction !== 'down' || (event.phase !== 'offer' && event.phase !== 'done'))
      return undefined;
    const conversation = this.conversation(transferConversation(event));
    const offer = event.phase === 'offer';
    const text = offer
      ? `${event.peer} offers ${event.name} (${bytesText(event.size)})`
      : `received ${event.name} from ${event.peer}, saved as ${event.path ?? '?'}`;
    this.#push(conversation, { ts: event.ts, kind: 'event', text, id: event.id });
    if (!offer) return undefined;
    const seen = conversation.key === this.active && focused;
    if (!seen) conversation.unread += 1;
    if (replay || seen) return undefined;
    return { title: event.peer, body: text, conversation: conversation.key };
  }

  #room(event: RoomEvent): void {
    const conversation = this.conversation(event.room);
    const aboutUs = event.user !== undefined && key(event.user) === key(this.self);
    if (event.event === 'joined') conversation.joined = true;
    if ((event.event === 'part' || event.event === 'kick' || event.event === 'ban') && aboutUs)
      conversation.joined = false;
    if (event.event === 'topic') conversation.topic = event.text ?? '';
    if (event.user !== undefined) this.#member(conversation, event.event, event.user);
    this.#push(conversation, { ts: event.ts, kind: 'event', text: roomEventText(event) });
  }

  /** Keeps the member list current between the core's full lists. */
  #member(conversation: Conversation, change: RoomEvent['event'], user: string): void {
    const others = conversation.members.filter((m) => key(m.name) !== key(user));
    const known = conversation.members.find((m) => key(m.name) === key(user));
    if (change === 'join' && !known) {
      const peer = this.peer(user);
      conversation.members = [
        ...others,
        { name: user, fingerprint: peer?.fingerprint ?? '', status: peer?.status ?? 'online' },
      ];
    } else if (change === 'part' || change === 'kick' || change === 'ban')
      conversation.members = others;
    else if (known && (change === 'op' || change === 'deop')) {
      const { role: _role, ...rest } = known;
      conversation.members = [...others, change === 'op' ? { ...rest, role: 'op' } : rest];
    }
  }

  /**
   * The page sent `/trust user`: the banner goes, and comes back if the core refuses
   * (an `E_TRUST` error: the peer went offline, its key signature fails, …).
   */
  trusted(user: string): void {
    const conversation = this.conversations.get(key(user));
    if (!conversation?.trust) return;
    this.#pendingTrust.set(conversation.key, conversation.trust);
    delete conversation.trust;
  }
}
