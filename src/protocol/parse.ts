import {
  type AckFrame,
  type ChatFrame,
  type ErrorFrame,
  type HelloFrame,
  type ListFrame,
  type PingFrame,
  type PongFrame,
  type RelayDelivery,
  type RelayFrame,
  readAck,
  readChat,
  readError,
  readHello,
  readRelay,
  readRelayDelivery,
  readServerText,
  type ServerTextFrame,
} from './core.js';
import {
  type PresenceFrame,
  readPresence,
  readUsers,
  readWelcome,
  type UsersFrame,
  type WelcomeFrame,
} from './directory.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { fileBinaryClientParsers, fileBinaryServerParsers } from './files/file-binary.js';
import {
  type FileClientFrame,
  type FileServerFrame,
  fileClientParsers,
  fileServerParsers,
} from './files/file-frames.js';
import {
  type BundleFrame,
  type BundleRequestFrame,
  type FetchedFrame,
  type PrekeyCountFrame,
  type PrekeysUploadFrame,
  readBundle,
  readBundleRequest,
  readFetched,
  readPrekeyCount,
  readPrekeysUpload,
} from './prekeys.js';
import { readRoomMessage, readRoomMessageDelivery } from './room-messages.js';
import {
  type RoomClientFrame,
  type RoomServerFrame,
  roomControlParsers,
  roomStatusParsers,
} from './rooms.js';

/**
 * The two entry points of frame validation: every frame type a client may send and every
 * frame type a server sends, each mapped to its parser in the feature file that owns it
 * (core, directory, prekeys, rooms, room-messages).
 */

export type ClientFrame =
  | HelloFrame
  | ListFrame
  | ChatFrame
  | RelayFrame
  | PingFrame
  | PrekeysUploadFrame
  | BundleRequestFrame
  | FetchedFrame
  | RoomClientFrame
  | FileClientFrame;

export type ServerFrame =
  | WelcomeFrame
  | UsersFrame
  | ServerTextFrame
  | RelayDelivery
  | ErrorFrame
  | AckFrame
  | PresenceFrame
  | BundleFrame
  | PrekeyCountFrame
  | PongFrame
  | FileServerFrame;

/** A parsed server frame, or `unknown` for frame types this version does not know. */
export type ParsedServerFrame =
  | ServerFrame
  | RoomServerFrame
  | { type: 'unknown'; rawType: string };

type Parsers<F extends { type: string }> = {
  [K in F['type']]: (frame: Record<string, unknown>) => F;
};

/** Parser of each frame type a client may send. */
const CLIENT_FRAME_PARSERS: Parsers<ClientFrame> = {
  hello: readHello,
  list: () => ({ type: 'list' }),
  chat: readChat,
  relay: readRelay,
  ping: () => ({ type: 'ping' }),
  prekeys: readPrekeysUpload,
  bundle: readBundleRequest,
  fetched: readFetched,
  ...roomControlParsers,
  roommsg: readRoomMessage,
  ...fileClientParsers,
  ...fileBinaryClientParsers,
};

/** Parser of each frame type a server sends. */
const SERVER_FRAME_PARSERS: Parsers<ServerFrame | RoomServerFrame> = {
  welcome: readWelcome,
  users: readUsers,
  presence: readPresence,
  server: readServerText,
  relay: readRelayDelivery,
  error: readError,
  ack: readAck,
  pong: () => ({ type: 'pong' }),
  bundle: readBundle,
  prekeys: readPrekeyCount,
  ...roomStatusParsers,
  roommsg: readRoomMessageDelivery,
  ...fileServerParsers,
  ...fileBinaryServerParsers,
};

function parserOf<P>(table: P, type: unknown): P[keyof P] | undefined {
  return typeof type === 'string' && Object.hasOwn(table as object, type)
    ? (table as Record<string, P[keyof P]>)[type]
    : undefined;
}

/**
 * Validates a decoded frame sent by a client (see docs/PROTOCOL.md) and returns a fresh
 * object holding only the known fields. Unknown extra fields are ignored.
 * @throws ProtocolError `E_UNKNOWN_TYPE`, `E_BAD_FIELD` or `E_BAD_NAME` (never fatal).
 */
export function parseClientFrame(frame: Record<string, unknown>): ClientFrame {
  const parse = parserOf(CLIENT_FRAME_PARSERS, frame.type);
  if (parse) return parse(frame);
  throw new ProtocolError(
    ErrorCode.UNKNOWN_TYPE,
    typeof frame.type === 'string' ? 'unknown frame type' : 'frame has no string "type"',
  );
}

/**
 * Validates a decoded frame sent by a server. Unknown frame types are returned as
 * `{ type: 'unknown' }` so newer servers do not break older clients.
 * @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME` when a known frame is malformed,
 *   `E_UNKNOWN_TYPE` when `type` is not a string.
 */
export function parseServerFrame(frame: Record<string, unknown>): ParsedServerFrame {
  const parse = parserOf(SERVER_FRAME_PARSERS, frame.type);
  if (parse) return parse(frame);
  if (typeof frame.type !== 'string') {
    throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, 'frame has no string "type"');
  }
  return { type: 'unknown', rawType: frame.type };
}
