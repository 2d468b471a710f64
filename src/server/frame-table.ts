import {
  Capability,
  type ClientFrame,
  EncodedRelay,
  ErrorCode,
  encodeAck,
  encodeError,
  encodeServerText,
  type FileClientFrame,
  type HelloFrame,
  PONG_LINE,
  ProtocolError,
  type RelayFrame,
  type RelayRoute,
  type RoomClientFrame,
} from '../protocol/index.js';
import type { DirectoryMember } from './directory.js';
import type { FileService, FileSession } from './files/index.js';
import { LOG_TEXT_PREFIX } from './logger.js';
import type { MailboxDelivery } from './mailbox-delivery.js';
import type { PrekeyOwner, PrekeyService } from './prekey-service.js';
import type { RoomMember, RoomService } from './rooms/room-service.js';
import type { RelayRouter, RelaySender, RelayTarget, RouteOutcome } from './router.js';
import type { SessionLog } from './session-log.js';
import type { ServerStats } from './stats.js';

/** What frame handlers need of a session. */
export interface FrameSession
  extends DirectoryMember,
    RelaySender,
    RelayTarget,
    PrekeyOwner,
    RoomMember,
    FileSession {
  readonly log: SessionLog;
  readonly state: 'awaiting-hello' | 'ready' | 'closed';
  readonly mailbox: MailboxDelivery;
  /** Relays forwarded to other nodes and not yet answered. */
  forwardsInFlight: number;
  /** A handler failed: `E_INTERNAL` (or `E_BUSY`) for this session only. */
  failed(error: unknown, ref?: string): void;
  /** The client announced this v2 capability. */
  has(capability: string): boolean;
  /** Queues an answer to this client's own request. */
  reply(line: string, kind: string): boolean;
  /** The `users` answer to `list`, in this client's protocol version. */
  usersLine(): string;
  /** Runs admission for the hello (first frame). */
  admit(hello: HelloFrame): Promise<void> | undefined;
}

/** The shared services handlers reach. */
export interface FrameContext<S extends FrameSession> {
  router: RelayRouter<S>;
  prekeys: PrekeyService<S>;
  rooms: RoomService<S>;
  stats: ServerStats;
  /** The chunk store's service; undefined when this server keeps no files. */
  files?: FileService<S>;
}

type Frame<K extends ClientFrame['type']> = Extract<ClientFrame, { type: K }>;

/**
 * One row of the frame table (ergo's `Commands{handler, usablePreReg, minParams}`): the
 * handler, and what the session must have before it runs, checked once by
 * {@link refusalFor}. A handler may return a promise: the session handles its next frame
 * only once it settled (so a client's frames are answered in order), and turns its
 * rejection, like a thrown error, into `E_INTERNAL` for that session only.
 */
export interface FrameRule<F extends ClientFrame> {
  handle<S extends FrameSession>(
    session: S,
    frame: F,
    raw: Record<string, unknown>,
    ctx: FrameContext<S>,
  ): void | Promise<void>;
  /** `hello`: the one frame accepted before the hello, and refused after it. */
  phase?: 'hello';
  /** Needs a v2 session proven with an identity key; names what needs it in the refusal. */
  identity?: string;
  /**
   * Needs this capability in the client's hello. No frame requires one today (servers
   * have always served v2 frames to clients that did not announce them); frames of a
   * later feature that must be negotiated name it here.
   */
  capability?: Capability;
}

function relay<S extends FrameSession>(
  session: S,
  frame: RelayFrame,
  raw: Record<string, unknown>,
  ctx: FrameContext<S>,
): void | Promise<void> {
  if (raw.from !== undefined && raw.from !== session.name) {
    session.log.warn({ event: 'spoof.attempt', claimed: String(raw.from).slice(0, 32) });
    ctx.stats.securityEvents.inc('spoof_attempt');
  }
  return routeRelay(session, new EncodedRelay(frame), ctx);
}

/**
 * Routes a validated relay and answers it: the slow path's `relay` rule above, and the fast
 * path of `Session` (a canonical relay read by `readCanonicalRelay`, which carries no
 * `from` and needs nothing but the hello, so no rule of this table refuses it).
 */
export function routeRelay<S extends FrameSession>(
  session: S,
  frame: RelayRoute,
  ctx: FrameContext<S>,
): void | Promise<void> {
  const outcome = ctx.router.route(session, frame, forwardAnswered, session);
  if (outcome === undefined) {
    // Forwarded to another node of a cluster: the next frame need not wait for that node's
    // answer (relays to one node stay in order on its stream); the ack follows when it
    // comes, to forwardAnswered. Past the cap, this frame waits for its own answer.
    if (++session.forwardsInFlight <= MAX_FORWARDS_IN_FLIGHT) return;
    return new Promise<void>((resolve) => waitingForAnswer.set(frame, resolve));
  }
  if (!(outcome instanceof Promise)) return relayAnswered(session, frame, outcome);
  return outcome.then((o) => relayAnswered(session, frame, o));
}

/** Relays to other nodes a session may have unanswered before its next frame waits. */
export const MAX_FORWARDS_IN_FLIGHT = 64;

/** Forwarded relays past the cap, and what lets their session read on once answered. */
const waitingForAnswer = new Map<RelayRoute, () => void>();

/** The answer to a relay forwarded to another node (see {@link routeRelay}). */
function forwardAnswered(session: FrameSession, frame: RelayRoute, outcome: RouteOutcome): void {
  session.forwardsInFlight--;
  try {
    relayAnswered(session, frame, outcome);
  } catch (error) {
    session.failed(error, frame.id);
  }
  if (waitingForAnswer.size > 0) {
    const resume = waitingForAnswer.get(frame);
    if (resume) {
      waitingForAnswer.delete(frame);
      resume();
    }
  }
}

function relayAnswered(session: FrameSession, frame: RelayRoute, outcome: RouteOutcome): void {
  if (outcome.kind === 'failed') {
    session.reply(encodeError(outcome.code, outcome.text, frame.id), 'error');
    return;
  }
  if (session.log.debugEnabled) {
    session.log.debug({
      event: 'relay',
      to: frame.to,
      bytes: frame.cipherLength,
      stored: outcome.kind === 'stored',
    });
  }
  if (frame.id !== undefined) session.reply(encodeAck(frame.id, outcome.kind === 'stored'), 'ack');
}

const room: FrameRule<RoomClientFrame> = {
  identity: 'rooms',
  handle: (session, frame, _raw, ctx) => ctx.rooms.handle(session, frame),
};

const file: FrameRule<FileClientFrame> = {
  identity: 'files',
  capability: Capability.files,
  handle(session, frame, _raw, ctx) {
    if (ctx.files) return ctx.files.handle(session, frame);
    const ref = frame.type === 'fnew' ? frame.id : frame.file;
    session.reply(encodeError(ErrorCode.FORBIDDEN, 'this server keeps no files', ref), 'error');
  },
};

/** Every frame type a client may send, with its handler and what it needs. */
export const FRAME_TABLE: { [K in ClientFrame['type']]: FrameRule<Frame<K>> } = {
  hello: { phase: 'hello', handle: (session, frame) => session.admit(frame) },
  relay: { handle: relay },
  chat: {
    handle(session, frame) {
      // Server-readable by design, but logs keep only a prefix: they are not a chat archive.
      session.log.info(
        {
          event: 'chat',
          textPrefix: frame.text.slice(0, LOG_TEXT_PREFIX),
          length: frame.text.length,
        },
        'server-readable chat',
      );
      session.reply(encodeServerText(`echo: ${frame.text}`), 'server');
    },
  },
  list: { handle: (session) => void session.reply(session.usersLine(), 'users') },
  ping: { handle: (session) => void session.reply(PONG_LINE, 'pong') },
  prekeys: {
    identity: 'prekeys',
    async handle(session, frame, _raw, ctx) {
      session.reply(await ctx.prekeys.upload(session, frame), 'prekeys');
    },
  },
  bundle: {
    identity: 'bundles',
    async handle(session, frame, _raw, ctx) {
      const requester = { identityKey: session.identityKey!, pq: session.has('pq') };
      session.reply(await ctx.prekeys.bundle(requester, frame), 'bundle');
    },
  },
  fetched: { handle: (session, frame) => session.mailbox.acknowledged(frame.upto) },
  join: room,
  part: room,
  rooms: room,
  who: room,
  topic: room,
  motd: room,
  moderate: room,
  roommsg: room,
  fnew: file,
  fput: file,
  fstat: file,
  fget: file,
  fdone: file,
  fdel: file,
};

/**
 * What stops `frame` from running now, checked once before dispatch: the hello comes first
 * and only once, and a frame's identity and capability needs. Undefined when it may run.
 */
export function refusalFor(
  session: FrameSession,
  frame: ClientFrame,
): { error: ProtocolError; ref: string | undefined } | undefined {
  const rule = FRAME_TABLE[frame.type] as FrameRule<ClientFrame>;
  const ref = (frame as { id?: string }).id;
  if (session.state === 'awaiting-hello') {
    if (rule.phase === 'hello') return undefined;
    const error = new ProtocolError(ErrorCode.HELLO_REQUIRED, 'send hello first', { fatal: true });
    return { error, ref };
  }
  if (rule.phase === 'hello') {
    return { error: new ProtocolError(ErrorCode.ALREADY_HELLO, 'hello was already accepted'), ref };
  }
  if (rule.identity !== undefined && session.identityKey === undefined) {
    const text = `${rule.identity} need a v2 session with an identity key`;
    return { error: new ProtocolError(ErrorCode.NEEDS_IDENTITY, text), ref };
  }
  if (rule.capability !== undefined && !session.has(rule.capability)) {
    const text = `this frame needs the "${rule.capability}" capability in your hello`;
    return { error: new ProtocolError(ErrorCode.FORBIDDEN, text), ref };
  }
  return undefined;
}
