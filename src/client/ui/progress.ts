/** File transfer events as display lines: offers, progress bars with rate and time left, results. */
import { displayFileName, formatBytes } from '../../protocol/index.js';
import type { TransferEvent, TransferListEvent } from '../events.js';
import { type Context, note } from './render-context.js';
import { sanitizeName } from './sanitize.js';
import { Glyph } from './theme.js';

const BAR_WIDTH = 20;

/** `[########------------]` for a fraction from 0 to 1 (ASCII: every terminal shows it). */
export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

/** `1m05s`, `42s`, `2h03m`. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The progress part of a line: bar, percent, bytes, rate, time left. */
export function progressText(bytes: number, size: number, rate?: number, eta?: number): string {
  const fraction = size === 0 ? 1 : bytes / size;
  const parts = [
    progressBar(fraction),
    `${Math.floor(fraction * 100)}%`,
    `${formatBytes(bytes)}/${formatBytes(size)}`,
  ];
  if (rate !== undefined) parts.push(`${formatBytes(rate)}/s`);
  if (eta !== undefined) parts.push(`ETA ${formatEta(eta)}`);
  return parts.join(' ');
}

function subject(event: Pick<TransferEvent, 'direction' | 'peer' | 'name' | 'room'>): string {
  const name = displayFileName(event.name);
  const peer = sanitizeName(event.peer);
  if (event.direction === 'up') return `${name} to ${peer}`;
  return `${name} from ${peer}${event.room ? ` in ${sanitizeName(event.room)}` : ''}`;
}

/** One transfer event: every peer-supplied string filtered (names, reasons, paths). */
export function renderTransfer(event: TransferEvent, ctx: Context): string[] {
  const { s } = ctx;
  const arrow = event.direction === 'up' ? '^' : 'v';
  const id = sanitizeName(event.id);
  const head = `${s.info(Glyph.info)} `;
  switch (event.phase) {
    case 'offer':
      return ctx.lines(
        event.ts,
        head,
        `${sanitizeName(event.peer)} offers ${displayFileName(event.name)}, ${formatBytes(event.size)}${event.room ? ` in ${sanitizeName(event.room)}` : ''}: /accept ${id} or /reject ${id}`,
      );
    case 'started':
    case 'progress':
      return ctx.lines(
        event.ts,
        head,
        `${arrow} ${id} ${subject(event)} ${progressText(event.bytes, event.size, event.rate, event.etaSeconds)}`,
      );
    case 'done':
      return ctx.lines(
        event.ts,
        head,
        event.direction === 'up'
          ? `${arrow} ${id} ${subject(event)}: sent (${formatBytes(event.size)}${event.rate ? `, ${formatBytes(event.rate)}/s` : ''})`
          : `${arrow} ${id} ${subject(event)}: saved to ${note(event.path ?? '?')} (digest checked)`,
      );
    case 'failed':
      return ctx.lines(
        event.ts,
        `${s.error(Glyph.warning)} `,
        `${arrow} ${id} ${subject(event)} failed: ${note(event.reason ?? 'unknown reason')}`,
        'error',
      );
    case 'cancelled':
    case 'rejected':
      return ctx.lines(event.ts, head, `${arrow} ${id} ${subject(event)}: ${event.phase}`);
    default:
      return [];
  }
}

/** The `/transfers` list. */
export function renderTransferList(event: TransferListEvent, ctx: Context): string[] {
  const { s } = ctx;
  if (event.transfers.length === 0)
    return ctx.lines(
      event.ts,
      `${s.info(Glyph.info)} `,
      'no file transfers (send one with /send NAME PATH)',
    );
  const body = [`${event.transfers.length} transfer${event.transfers.length === 1 ? '' : 's'}:`];
  for (const t of event.transfers) {
    const arrow = t.direction === 'up' ? '^' : 'v';
    body.push(
      `  ${arrow} ${sanitizeName(t.id)} ${subject(t)} ${formatBytes(t.size)} ${sanitizeName(t.state)}${t.reason ? ` (${note(t.reason)})` : ''}${t.path ? ` ${note(t.path)}` : ''}`,
    );
  }
  return ctx.lines(event.ts, `${s.info(Glyph.info)} `, body.join('\n'));
}
