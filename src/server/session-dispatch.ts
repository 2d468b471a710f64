import {
  type ClientFrame,
  ErrorCode,
  encodeAck,
  encodeError,
  encodeServerText,
  PONG_LINE,
  ProtocolError,
  type RelayFrame,
  type RoomClientFrame,
} from '../protocol/index.js';
import { LOG_TEXT_PREFIX } from './logger.js';
import type { RelayRouter, RelaySender, RelayTarget } from './router.js';
import type { SessionLog } from './session-log.js';
import type { V2Frame } from './session-v2.js';
import type { ServerStats } from './stats.js';

/** What frame handlers need of a session that accepted a hello. */
export interface FrameSession extends RelaySender {
  readonly log: SessionLog;
  /** Queues an answer to this client's own request. */
  reply(line: string, kind: string): boolean;
  /** The `users` answer to `list`, in this client's protocol version. */
  usersLine(): string;
  handleV2(frame: V2Frame): void;
  handleRoom(frame: RoomClientFrame): Promise<void> | undefined;
}

export interface DispatchContext<T extends RelayTarget> {
  router: RelayRouter<T>;
  stats: ServerStats;
}

type Handler<F extends ClientFrame> = <T extends RelayTarget>(
  session: FrameSession,
  frame: F,
  raw: Record<string, unknown>,
  ctx: DispatchContext<T>,
) => Promise<void> | undefined;
type Frame<K extends ClientFrame['type']> = Extract<ClientFrame, { type: K }>;

function relay<T extends RelayTarget>(
  session: FrameSession,
  frame: RelayFrame,
  raw: Record<string, unknown>,
  ctx: DispatchContext<T>,
): undefined {
  if (raw.from !== undefined && raw.from !== session.name) {
    session.log.warn({ event: 'spoof.attempt', claimed: String(raw.from).slice(0, 32) });
    ctx.stats.securityEvents.inc('spoof_attempt');
  }
  const outcome = ctx.router.route(session, frame);
  if (outcome.kind === 'failed') {
    session.reply(encodeError(outcome.code, outcome.text, frame.id), 'error');
    return undefined;
  }
  if (session.log.debugEnabled) {
    session.log.debug({
      event: 'relay',
      to: frame.to,
      bytes: frame.cipher.length,
      stored: outcome.kind === 'stored',
    });
  }
  if (frame.id !== undefined) session.reply(encodeAck(frame.id, outcome.kind === 'stored'), 'ack');
  return undefined;
}

const room: Handler<RoomClientFrame> = (session, frame) => session.handleRoom(frame);
const v2: Handler<V2Frame> = (session, frame) => {
  session.handleV2(frame);
  return undefined;
};

/**
 * One handler per frame type a client may send after its hello (the frame was validated by
 * the protocol core). A handler may return a promise; the session turns its rejection, like
 * a thrown error, into `E_INTERNAL` for that session only.
 */
export const FRAME_HANDLERS: { [K in ClientFrame['type']]: Handler<Frame<K>> } = {
  relay,
  chat(session, frame) {
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
    return undefined;
  },
  list(session) {
    session.reply(session.usersLine(), 'users');
    return undefined;
  },
  ping(session) {
    session.reply(PONG_LINE, 'pong');
    return undefined;
  },
  hello() {
    throw new ProtocolError(ErrorCode.ALREADY_HELLO, 'hello was already accepted');
  },
  prekeys: v2,
  bundle: v2,
  fetched: v2,
  join: room,
  part: room,
  rooms: room,
  who: room,
  topic: room,
  motd: room,
  moderate: room,
  roommsg: room,
};
