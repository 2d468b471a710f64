import type {
  ClientEvent,
  ConnectionState,
  DeliveryEvent,
  MessageEvent,
  NoticeEvent,
  PeerSummary,
  PresenceEvent,
  TrustEvent,
  UndecryptableEvent,
  UsersEvent,
} from '../events.js';
import { seconds } from './prompt.js';
import { sanitizeName } from './sanitize.js';
import { Glyph, KeyMarker, ProtectionMarker } from './theme.js';
import { visibleWidth } from './wrap.js';

export {
  formatClock,
  MAX_RENDERED_NOTE,
  MAX_RENDERED_TEXT,
  type RenderOptions,
} from './render-context.js';

import { renderTransfer, renderTransferList } from './progress.js';
import {
  type Context,
  contextFor,
  multiNote,
  note,
  type RenderOptions,
  sameName,
  text,
} from './render-context.js';
import { renderRoom, renderRoomList } from './render-rooms.js';

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
    case 'transfer':
      return renderTransfer(event, ctx);
    case 'transfers':
      return renderTransferList(event, ctx);
    default:
      return [];
  }
}

/** Several events, in order. */
export function renderEvents(events: readonly ClientEvent[], opts: RenderOptions): string[] {
  return events.flatMap((event) => renderEvent(event, opts));
}

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
