import { base64DecodedLength } from './base64.js';
import { type HelloFrame, SERVER_CAPS } from './core.js';
import { ErrorCode, ProtocolError } from './errors.js';
import {
  asRecord,
  badField,
  isValidName,
  readCaps,
  readVersion,
  requireBase64,
  requireName,
} from './fields.js';
import { isValidChunkBytes, MAX_FILE_CHUNK_BYTES } from './files/file-limits.js';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  MAX_MAX_LINE_BYTES,
  MIN_MAX_LINE_BYTES,
  X25519_KEY_BYTES,
} from './limits.js';

/**
 * The directory frames: who is online. `welcome` (S→C answer to hello), `list` / `users`,
 * `presence` deltas, and the `PeerInfo` entry they carry. v1 clients get the seed's
 * `users` map (name → X25519 key); v2 clients get `peers` (name → PeerInfo with identity
 * key, signature and capabilities).
 */

export type Directory = ReadonlyMap<string, string>;

/** What the server publishes about an online user (v2 directory entry). */
export interface PeerInfo {
  pub: string;
  /** 1 = seed/legacy client (no identity), 2 = identity-proving client. */
  v: number;
  idk?: string;
  sig?: string;
  caps?: string[];
}

export interface WelcomeFrame {
  type: 'welcome';
  users: Directory;
  /** Server protocol version (absent = 1). */
  v: number;
  caps: string[];
  /** v2 directory with identity keys (absent from v1 servers). */
  peers?: ReadonlyMap<string, PeerInfo>;
  /** The server's line limit in bytes (v2, optional): longer lines close the connection. */
  maxline?: number;
  /** Largest file (plaintext bytes) the server takes (v2 with `files`, optional). */
  maxfile?: number;
  /** Largest chunk size (plaintext bytes) the server takes in binary mode (`fbin`, optional). */
  maxchunk?: number;
}
export interface UsersFrame {
  type: 'users';
  users: Directory;
  peers?: ReadonlyMap<string, PeerInfo>;
}
/** v2 presence delta: a user came online (or changed keys), or went offline. */
export interface PresenceFrame {
  type: 'presence';
  event: 'join' | 'leave';
  user: string;
  peer?: PeerInfo;
}

/** Reads one directory entry; undefined when malformed. */
export function readPeerInfo(entry: unknown): PeerInfo | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const record = entry as Record<string, unknown>;
  try {
    const peer: PeerInfo = {
      pub: requireBase64(record, 'pub', X25519_KEY_BYTES),
      v: readVersion(record.v),
    };
    // Present means valid: a null `idk` or `sig` makes the whole entry invalid.
    if (record.idk !== undefined) peer.idk = requireBase64(record, 'idk', ED25519_PUBLIC_KEY_BYTES);
    if (record.sig !== undefined) peer.sig = requireBase64(record, 'sig', ED25519_SIGNATURE_BYTES);
    if (record.caps !== undefined) peer.caps = readCaps(record.caps);
    return peer;
  } catch (error) {
    if (error instanceof ProtocolError) return undefined;
    throw error;
  }
}

/**
 * Reads a v2 `peers` map (name → PeerInfo). Invalid entries are skipped and counted, like
 * {@link readDirectory}. @throws ProtocolError `E_BAD_FIELD` when it is not an object.
 */
function readPeers(value: unknown): { peers: Map<string, PeerInfo>; skipped: number } {
  const record = asRecord(value, 'field "peers"');
  const peers = new Map<string, PeerInfo>();
  let skipped = 0;
  for (const [name, entry] of Object.entries(record)) {
    const peer = isValidName(name) ? readPeerInfo(entry) : undefined;
    if (peer) peers.set(name, peer);
    else skipped++;
  }
  return { peers, skipped };
}

/**
 * Reads a `users` map: name → Base64 X25519 key. Entries with an invalid name or key are
 * skipped and counted, so one bad entry from a buggy server does not hide the others.
 * @throws ProtocolError `E_BAD_FIELD` when it is not an object.
 */
export function readDirectory(value: unknown): { users: Map<string, string>; skipped: number } {
  const record = asRecord(value, 'field "users"');
  const users = new Map<string, string>();
  let skipped = 0;
  for (const [name, pub] of Object.entries(record)) {
    if (
      isValidName(name) &&
      typeof pub === 'string' &&
      base64DecodedLength(pub) === X25519_KEY_BYTES
    ) {
      users.set(name, pub);
    } else {
      skipped++;
    }
  }
  return { users, skipped };
}

export function readWelcome(frame: Record<string, unknown>): WelcomeFrame {
  const welcome: WelcomeFrame = {
    type: 'welcome',
    users: readDirectory(frame.users).users,
    v: readVersion(frame.v),
    caps: readCaps(frame.caps),
  };
  if (frame.peers !== undefined) welcome.peers = readPeers(frame.peers).peers;
  // Ignored unless sane: a limit below the smallest a server may set would block chat.
  if (
    Number.isSafeInteger(frame.maxline) &&
    (frame.maxline as number) >= MIN_MAX_LINE_BYTES &&
    (frame.maxline as number) <= MAX_MAX_LINE_BYTES
  )
    welcome.maxline = frame.maxline as number;
  if (Number.isSafeInteger(frame.maxfile) && (frame.maxfile as number) >= 0)
    welcome.maxfile = frame.maxfile as number;
  if (isValidChunkBytes(frame.maxchunk)) welcome.maxchunk = frame.maxchunk;
  return welcome;
}

export function readUsers(frame: Record<string, unknown>): UsersFrame {
  const users: UsersFrame = { type: 'users', users: readDirectory(frame.users).users };
  if (frame.peers !== undefined) users.peers = readPeers(frame.peers).peers;
  return users;
}

export function readPresence(frame: Record<string, unknown>): PresenceFrame {
  const event = frame.event;
  if (event !== 'join' && event !== 'leave') badField('field "event" must be join or leave');
  const presence: PresenceFrame = { type: 'presence', event, user: requireName(frame, 'user') };
  if (event === 'join') {
    const peer = readPeerInfo(frame.peer);
    if (!peer) throw new ProtocolError(ErrorCode.BAD_FIELD, 'presence join without a valid peer');
    presence.peer = peer;
  }
  return presence;
}

// --- encoders ------------------------------------------------------------------------------
// Every interpolated value was validated to a safe character set (names, Base64, capability
// names) or is JSON produced here, so concatenation yields valid JSON. The map encoders'
// output is meant to be cached by the server and spliced into many lines.

/** The v2 directory entry (`PeerInfo`) of a client, as JSON, from its validated hello. */
export function encodePeerInfo(hello: HelloFrame): string {
  if (hello.v < 2) return `{"pub":"${hello.pub}","v":1}`;
  return `{"pub":"${hello.pub}","v":${hello.v},"idk":"${hello.idk}","sig":"${hello.pubsig}","caps":${JSON.stringify(hello.caps)}}`;
}

/** Characters a JSON string may hold as they are: every valid name and Base64 key. */
const PLAIN_JSON_STRING = /^[A-Za-z0-9_.+/=-]*$/;

/**
 * One `"name":"pub"` member of a v1 `users` map (see {@link encodeUsersMap}). Valid names
 * and keys go in as they are (no JSON.stringify call per member); anything else is escaped.
 */
export function encodeUsersEntry(name: string, pub: string): string {
  return PLAIN_JSON_STRING.test(name) && PLAIN_JSON_STRING.test(pub)
    ? `"${name}":"${pub}"`
    : `${JSON.stringify(name)}:${JSON.stringify(pub)}`;
}

/** One `"name":{...}` member of a v2 `peers` map (see {@link encodePeersMap}). */
export function encodePeersEntry(name: string, peerJson: string): string {
  return `"${name}":${peerJson}`;
}

/**
 * JSON of a v1 `users` map (name → Base64 X25519 key), from its members joined in order
 * (the server's directory joins {@link encodeUsersEntry} of each member itself, without
 * the pairs). Names are unique in a directory; a repeated name here is kept once, its last
 * key, as an object would.
 */
export function encodeUsersMap(entries: Iterable<readonly [name: string, pub: string]>): string {
  const users = new Map<string, string>();
  for (const [name, pub] of entries) users.set(name, pub);
  const parts: string[] = [];
  for (const [name, pub] of users) parts.push(encodeUsersEntry(name, pub));
  return `{${parts.join(',')}}`;
}

/** JSON of a v2 `peers` map from (name, {@link encodePeerInfo} JSON) pairs. */
export function encodePeersMap(
  entries: Iterable<readonly [name: string, peerJson: string]>,
): string {
  const parts: string[] = [];
  for (const [name, peerJson] of entries) parts.push(encodePeersEntry(name, peerJson));
  return `{${parts.join(',')}}`;
}

/**
 * The welcome to a v1 client: the `users` map, as the seed protocol has it.
 * @param usersJson from {@link encodeUsersMap}.
 */
export function encodeWelcomeV1(usersJson: string): string {
  return `{"type":"welcome","users":${usersJson}}\n`;
}

/** Capabilities offered only with a chunk store. */
const FILE_CAPS: ReadonlySet<string> = new Set(['files', 'fbin', 'fhold']);
const capsJson = (pq: boolean, files: boolean): string =>
  JSON.stringify(SERVER_CAPS.filter((c) => (pq || c !== 'pq') && (files || !FILE_CAPS.has(c))));
const SERVER_CAPS_JSON = [
  [capsJson(false, false), capsJson(false, true)],
  [capsJson(true, false), capsJson(true, true)],
] as const;

/**
 * The welcome to a v2 client: the server's capabilities and the directory only in `peers`
 * (`users` stays an empty object for parsers that expect it).
 * @param peersJson from {@link encodePeersMap}; `{}` for a client that asks with `list`.
 * @param pq offer `pq`; @param files offer `files` (a server with a chunk store), and with
 * it `maxFileBytes`, its `--max-file-size` (clients refuse a larger file before uploading).
 */
export function encodeWelcomeV2(
  peersJson: string,
  pq = true,
  maxLineBytes?: number,
  files = true,
  maxFileBytes?: number,
): string {
  const caps = SERVER_CAPS_JSON[pq ? 1 : 0][files ? 1 : 0];
  const maxline = Number.isSafeInteger(maxLineBytes) ? `,"maxline":${maxLineBytes}` : '';
  const maxfile = files && Number.isSafeInteger(maxFileBytes) ? `,"maxfile":${maxFileBytes}` : '';
  // with files comes fbin, and with it chunks up to MAX_FILE_CHUNK_BYTES
  const maxchunk = files ? `,"maxchunk":${MAX_FILE_CHUNK_BYTES}` : '';
  return `{"type":"welcome","v":2,"caps":${caps},"users":{},"peers":${peersJson}${maxline}${maxfile}${maxchunk}}\n`;
}

/** The v1 `users` frame (answer to `list`, and the push on every change). */
export function encodeUsersV1(usersJson: string): string {
  return `{"type":"users","users":${usersJson}}\n`;
}

/** The v2 `users` frame: `peers` with an empty `users`. */
export function encodeUsersV2(peersJson: string): string {
  return `{"type":"users","users":{},"peers":${peersJson}}\n`;
}

/** `user` came online (or replaced its own earlier session). @param peerJson {@link encodePeerInfo}. */
export function encodePresenceJoin(user: string, peerJson: string): string {
  return `{"type":"presence","event":"join","user":"${user}","peer":${peerJson}}\n`;
}

/** `user` went offline. */
export function encodePresenceLeave(user: string): string {
  return `{"type":"presence","event":"leave","user":"${user}"}\n`;
}
