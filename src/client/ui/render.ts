/**
 * Pure rendering of client events into terminal lines. Nothing here writes anywhere: each
 * function returns display lines (no `\n`, no `\r`), wrapped to `width` when one is
 * given. Every peer- or server-supplied string (names, message text, notices, reasons,
 * codes, fingerprints) goes through sanitize.ts first; the only escape sequences in the
 * output are the SGR colours this module adds when `color` is on.
 *
 * Layout, colour off:
 *   [12:34:56] [e2ee] <bob ✓> hello               incoming, verified peer
 *   [12:34:56] [e2ee:v1 no-fs] <alice -> carol> hi outgoing to a legacy (v1) peer
 *   [12:34:56] [server-readable] -server- echo: hi
 *   [12:34:56] -!- info    !!! warning    xxx error (E_CODE)
 * Markers sit before the nick, in front of any text a peer controls, so message text
 * cannot fake them; continuation lines are indented under the text, so a multi-line
 * message cannot fake a line of its own.
 */
import { nameKey } from '../../protocol/names.js';
import type {
  ClientEvent,
  ConnectionState,
  DeliveryEvent,
  MessageEvent,
  NoticeEvent,
  PeerSummary,
  PresenceEvent,
  RoomEvent,
  RoomListEvent,
  TrustEvent,
  UndecryptableEvent,
  UsersEvent,
} from '../events.js';
import { seconds } from './prompt.js';
import { sanitizeName, sanitizeText } from './sanitize.js';
import { Glyph, KeyMarker, ProtectionMarker, type Styles, stylesFor } from './theme.js';
import { effectiveIndent, visibleWidth, wrapLine } from './wrap.js';

export interface RenderOptions {
  /** Add SGR colours (chalk level 1, 16 colours). */
  color: boolean;
  /** Our own user name: tells own messages and `(you)` apart. */
  self: string;
  /** Clock for events without a usable `ts`. Default `() => new Date()`. */
  now?: () => Date;
  /** Formats the time inside `[…]`. Default: local `HH:MM:SS`. */
  timeFormat?: (date: Date) => string;
  /** Wrap to this many columns (hanging indent under the text). Default: no wrapping. */
  width?: number;
}

/** Upper bound on one message's rendered text, in code points, before wrapping. */
export const MAX_RENDERED_TEXT = 8192;
/** Upper bound for notices, reasons and other single-line peer-supplied strings. */
export const MAX_RENDERED_NOTE = 1024;

/** Local `HH:MM:SS`. */
export function formatClock(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** One event as display lines. */
export function renderEvent(event: ClientEvent, opts: RenderOptions): string[] {
  const ctx = contextFor(opts);
  switch (event.kind) {
    case 'message':
      return renderMessage(event, ctx);
    case 'server':
      return ctx.lines(event.ts, `${serverReadable(ctx)} -server- `, text(event.text));
    case 'presence':
      return renderPresence(event, ctx);
    case 'users':
      return renderUsers(event, ctx);
    case 'info':
    case 'warning':
    case 'error':
      return renderNotice(event, ctx);
    case 'delivery':
      return renderDelivery(event, ctx);
    case 'connection':
      return renderConnection(event.ts, event.status, ctx);
    case 'room':
      return renderRoom(event, ctx);
    case 'rooms':
      return renderRoomList(event, ctx);
    case 'trust':
      return renderTrust(event, ctx);
    case 'undecryptable':
      return renderUndecryptable(event, ctx);
    default:
      return [];
  }
}

/** Several events, in order. */
export function renderEvents(events: readonly ClientEvent[], opts: RenderOptions): string[] {
  return events.flatMap((event) => renderEvent(event, opts));
}

interface Context {
  s: Styles;
  color: boolean;
  self: string;
  /** Timestamp + `head` on the first line, `body` (may hold `\n`) after it, wrapped. */
  lines(ts: number, head: string, body: string, paintBody?: 'warning' | 'error'): string[];
}

function contextFor(opts: RenderOptions): Context {
  const s = stylesFor(opts.color);
  const now = opts.now ?? (() => new Date());
  const clock = opts.timeFormat ?? formatClock;
  return {
    s,
    color: opts.color,
    self: opts.self,
    lines(ts, head, body, paintBody) {
      const given = new Date(Number.isFinite(ts) ? ts : Number.NaN);
      const date = Number.isNaN(given.getTime()) ? now() : given;
      const stamp = s.timestamp(`[${sanitizeText(clock(date))}]`);
      const first = `${stamp} ${head}`;
      const indent = visibleWidth(first);
      const paint = paintBody === undefined ? (t: string) => t : s[paintBody];
      const hang = opts.width === undefined ? indent : effectiveIndent(indent, opts.width);
      const pad = ' '.repeat(hang);
      const out: string[] = [];
      body.split('\n').forEach((part, i) => {
        const line = i === 0 ? first + paint(part) : pad + paint(part);
        if (opts.width === undefined) out.push(line);
        else out.push(...wrapLine(line, opts.width, indent));
      });
      return out;
    },
  };
}

const text = (value: string) =>
  sanitizeText(value, { multiline: true, maxLength: MAX_RENDERED_TEXT });
const note = (value: string) => sanitizeText(value, { maxLength: MAX_RENDERED_NOTE });
/** Multi-line notices (`/help`, lists) may be as long as a message. */
const multiNote = (value: string) =>
  sanitizeText(value, { multiline: true, maxLength: MAX_RENDERED_TEXT });

const sameName = (a: string, b: string) => nameKey(a) === nameKey(b);

/**
 * The one marker that means "not end-to-end encrypted": in the warning colour, and in
 * words where there is no colour to carry it.
 */
function serverReadable(ctx: Context): string {
  const marker = ProtectionMarker['server-readable'];
  return ctx.color
    ? ctx.s.protection('server-readable', marker)
    : `${marker} (NOT end-to-end encrypted)`;
}

function renderMessage(event: MessageEvent, ctx: Context): string[] {
  const { s } = ctx;
  const outgoing = event.direction === 'out';
  const sender = sanitizeName(event.from);
  const peer = outgoing ? event.to : event.from;
  const verified = event.verified === true || event.keyStatus === 'verified';
  const mark = verified ? ` ${s.verified(Glyph.verified)}` : '';
  const senderStyled = outgoing ? s.own(sender) : s.nick(event.from, sender);
  // Incoming to a conversation other than us (a #room later) names it too.
  const target = outgoing || !sameName(event.to, ctx.self) ? sanitizeName(event.to) : undefined;
  const targetStyled = target === undefined ? '' : outgoing ? s.nick(peer, target) : target;

  let head =
    event.protection === 'server-readable'
      ? `${serverReadable(ctx)} `
      : `${s.protection(event.protection, ProtectionMarker[event.protection] ?? '[?]')} `;
  // Kept by the server while we were offline: stamped with when it was sent (from inside
  // the encryption), and marked so it does not read as just said.
  const stamp = outgoing || event.sentAt === undefined ? event.ts : event.sentAt;
  if (!outgoing && event.sentAt !== undefined) {
    const sent = new Date(event.sentAt);
    const today = new Date(event.ts).toDateString() === sent.toDateString();
    head += `${s.dim(`[sent while you were away${today ? '' : `, ${formatLocalDateTime(sent).slice(0, 10)}`}]`)} `;
  }
  if (event.keyStatus === 'changed') head += `${s.keyAlert(KeyMarker.changed)} `;
  if (event.keyStatus === 'invalid') head += `${s.keyAlert(KeyMarker.invalid)} `;

  // The verified mark belongs to the peer: the sender when incoming, the target when not.
  const senderMark = outgoing ? '' : mark;
  const targetMark = outgoing ? mark : '';
  if (event.to.startsWith('#')) {
    // Room chat, irssi/lobby style: "#lobby alice: hola".
    const room = s.dim(sanitizeName(event.to));
    head += event.action
      ? `${room} ${Glyph.action} ${senderStyled}${senderMark} `
      : `${room} ${senderStyled}${senderMark}: `;
    return ctx.lines(stamp, head, text(event.text));
  }
  if (event.action) {
    const to = target === undefined ? '' : ` (-> ${targetStyled}${targetMark})`;
    head += `${Glyph.action} ${senderStyled}${senderMark}${to} `;
  } else {
    const to = target === undefined ? '' : ` -> ${targetStyled}${targetMark}`;
    head += `<${senderStyled}${senderMark}${to}> `;
  }
  return ctx.lines(stamp, head, text(event.text));
}

function renderPresence(event: PresenceEvent, ctx: Context): string[] {
  const { s } = ctx;
  const name = s.nick(event.user, sanitizeName(event.user));
  if (event.event === 'leave')
    return ctx.lines(event.ts, `${s.info(Glyph.leave)} `, `${name} left`);
  const fp = event.fingerprint === undefined ? '' : ` ${s.dim(`(${note(event.fingerprint)})`)}`;
  return ctx.lines(event.ts, `${s.info(Glyph.join)} `, `${name} joined${fp}`);
}

/** Words shown for a peer's status in /list; ASCII so they survive without colour. */
export const PEER_STATUS_LABEL: Record<PeerSummary['status'], string> = {
  online: 'online',
  verified: `verified ${Glyph.verified}`,
  legacy: 'legacy v1: no identity, no forward secrecy',
  changed: 'KEY CHANGED: /verify or /trust before talking',
};

function renderUsers(event: UsersEvent, ctx: Context): string[] {
  const { s } = ctx;
  const head = `${s.info(Glyph.info)} `;
  if (event.users.length === 0) return ctx.lines(event.ts, head, 'no users online');
  const rows = event.users.map((user) => ({
    user,
    name: sanitizeName(user.name),
    fp: note(user.fingerprint),
  }));
  const nameWidth = rows.reduce((max, row) => Math.max(max, row.name.length), 0);
  const fpWidth = rows.reduce((max, row) => Math.max(max, visibleWidth(row.fp)), 0);
  const count = event.users.length;
  const body = [
    event.room === undefined
      ? `${count} user${count === 1 ? '' : 's'} online:`
      : `${count} member${count === 1 ? '' : 's'} in ${sanitizeName(event.room)}:`,
  ];
  for (const { user, name, fp } of rows) {
    const self = user.self === true || sameName(user.name, ctx.self);
    const styledName = self ? s.own(name) : s.nick(user.name, name);
    const label = PEER_STATUS_LABEL[user.status] ?? note(String(user.status));
    const styledLabel =
      user.status === 'changed'
        ? s.keyAlert(label)
        : user.status === 'legacy'
          ? s.warning(label)
          : user.status === 'verified'
            ? s.verified(label)
            : label;
    const padName = ' '.repeat(nameWidth - name.length);
    const padFp = ' '.repeat(fpWidth - visibleWidth(fp));
    body.push(
      `  ${styledName}${padName}  ${s.dim(fp)}${padFp}  ${styledLabel}${user.role ? ` ${user.role}` : ''}${self ? ' (you)' : ''}`,
    );
  }
  return ctx.lines(event.ts, head, body.join('\n'));
}

/** Local `YYYY-MM-DD HH:MM` (24-hour), like the clock of every line. */
export function formatLocalDateTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** Server texts carry UTC ISO instants (ban expiries): shown in local 24-hour time. */
function localInstants(text: string): string {
  return text.replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?Z\b/g, (iso) => {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : formatLocalDateTime(date);
  });
}

function renderNotice(event: NoticeEvent, ctx: Context): string[] {
  const glyph = Glyph[event.kind];
  const code = event.code === undefined ? '' : ` (${note(event.code)})`;
  const head = `${ctx.s[event.kind](glyph)} `;
  const paint = event.kind === 'info' ? undefined : event.kind;
  return ctx.lines(event.ts, head, multiNote(localInstants(event.text)) + code, paint);
}

/** Trust alerts stand out: a key-alert label naming who, then the explanation. */
function renderTrust(event: TrustEvent, ctx: Context): string[] {
  const who = event.user === undefined ? 'SERVER' : sanitizeName(event.user);
  const head = `${ctx.s.keyAlert(`${Glyph.warning} TRUST ${who}:`)} `;
  return ctx.lines(event.ts, head, `${multiNote(event.text)} (${note(event.code)})`, 'warning');
}

function renderUndecryptable(event: UndecryptableEvent, ctx: Context): string[] {
  const where = event.room === undefined ? '' : ` in ${sanitizeName(event.room)}`;
  const head = `${ctx.s.warning(Glyph.warning)} `;
  const body = `undecryptable message from ${sanitizeName(event.from)}${where}: ${note(event.reason)} (${note(event.code)})`;
  return ctx.lines(event.ts, head, body, 'warning');
}

/** `sent`, `delivered`, `queued`, or `failed: <reason>` (reason sanitized). */
export function deliveryLabel(status: DeliveryEvent['status'], reason?: string): string {
  if (status !== 'failed' && status !== 'stored') return note(status);
  return reason === undefined ? status : `${status}: ${note(reason)}`;
}

function renderDelivery(event: DeliveryEvent, ctx: Context): string[] {
  const { s } = ctx;
  const failed = event.status === 'failed';
  const head = failed ? `${s.error(Glyph.error)} ` : `${s.info(Glyph.info)} `;
  const body = `msg ${note(event.id)} to ${sanitizeName(event.to)}: ${deliveryLabel(event.status, event.reason)}`;
  return ctx.lines(event.ts, head, body, failed ? 'error' : undefined);
}

/** A connection state as one short phrase (also used by the prompt). */
export function describeConnection(status: ConnectionState): string {
  switch (status.state) {
    case 'connecting':
      return status.attempt > 1 ? `connecting (attempt ${status.attempt})` : 'connecting';
    case 'connected':
      return `connected to ${note(status.server)} (server key ${note(status.fingerprint)})`;
    case 'reconnecting':
      return `connection lost: ${note(status.reason)}; reconnecting in ${seconds(status.inMs)} (attempt ${status.attempt})`;
    case 'closed':
      return `disconnected: ${note(status.reason)}`;
    default:
      return 'unknown connection state';
  }
}

const CONNECTION_LINE_KIND = {
  connecting: 'info',
  connected: 'info',
  reconnecting: 'warning',
  closed: 'error',
} as const;

function renderConnection(ts: number, status: ConnectionState, ctx: Context): string[] {
  const kind = CONNECTION_LINE_KIND[status.state] ?? 'warning';
  const head = `${ctx.s[kind](Glyph[kind])} `;
  return ctx.lines(ts, head, describeConnection(status), kind === 'info' ? undefined : kind);
}

export { formatPrompt, type PromptState } from './prompt.js';
export { visibleWidth, wrapLine } from './wrap.js';

const ROOM_VERBS: Record<RoomEvent['event'], string> = {
  joined: 'you joined',
  join: 'joined',
  part: 'left',
  kick: 'was kicked from',
  ban: 'was banned from',
  unban: 'was unbanned from',
  topic: 'set the topic of',
  op: 'is now an operator of',
  deop: 'is no longer an operator of',
  password: 'changed the password of',
};

/** Events said with the one who acted first: "alice made bob an operator of #dev". */
function actedBy(event: RoomEvent, who: string, by: string, room: string): string | undefined {
  switch (event.event) {
    case 'op':
      return `${by} made ${who} an operator of ${room}`;
    case 'deop':
      return `${by} took ${who}'s operator rights in ${room}`;
    case 'password':
      return `${by} changed the password of ${room}`;
    case 'unban':
      return `${by} lifted the ban on ${who} in ${room}`;
    default:
      return undefined;
  }
}

function renderRoom(event: RoomEvent, ctx: Context): string[] {
  const { s } = ctx;
  const room = sanitizeName(event.room);
  const user = event.user === undefined ? undefined : sanitizeName(event.user);
  const who = user === undefined ? '' : `${user} `;
  const by = event.by === undefined ? '' : ` by ${sanitizeName(event.by)}`;
  const reason = event.reason ? ` (${note(event.reason)})` : '';
  const glyph =
    event.event === 'join' || event.event === 'joined'
      ? Glyph.join
      : event.event === 'part' || event.event === 'kick' || event.event === 'ban'
        ? Glyph.leave
        : Glyph.info;
  const self = event.user !== undefined && sameName(event.user, ctx.self);
  let body: string;
  const acted =
    event.by === undefined
      ? undefined
      : actedBy(event, self ? 'you' : (user ?? 'someone'), sanitizeName(event.by), room);
  if (event.event === 'topic') {
    body = `${who || (event.by ? `${sanitizeName(event.by)} ` : '')}${event.by || event.user ? 'set the topic of ' : 'topic of '}${room}: ${text(event.text ?? '')}`;
  } else if (event.event === 'joined') {
    body = `you joined ${room}${event.text ? ` — topic: ${text(event.text)}` : ''}`;
  } else if (acted !== undefined) {
    body = acted + reason;
  } else if (self && (event.event === 'kick' || event.event === 'ban')) {
    body = `you were ${event.event === 'kick' ? 'kicked from' : 'banned from'} ${room}${by}${reason}`;
  } else if (self && event.event === 'part') {
    body = `you left ${room}`;
  } else {
    body = `${who}${ROOM_VERBS[event.event] ?? note(String(event.event))} ${room}${by}${reason}`;
  }
  return ctx.lines(event.ts, `${s.info(glyph)} `, body);
}

function renderRoomList(event: RoomListEvent, ctx: Context): string[] {
  const { s } = ctx;
  if (event.rooms.length === 0)
    return ctx.lines(event.ts, `${s.info(Glyph.info)} `, 'no rooms yet: /join #name creates one');
  const body = [`${event.rooms.length} room${event.rooms.length === 1 ? '' : 's'}:`];
  for (const room of event.rooms) {
    const flags = [room.password ? 'password' : '', room.lobby ? 'lobby' : '']
      .filter(Boolean)
      .join(', ');
    body.push(
      `  ${sanitizeName(room.room)}  ${room.members} member${room.members === 1 ? '' : 's'}${flags ? ` (${flags})` : ''}${room.topic ? `  ${note(room.topic)}` : ''}`,
    );
  }
  return ctx.lines(event.ts, `${s.info(Glyph.info)} `, body.join('\n'));
}
