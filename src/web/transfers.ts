import type { TransferEvent, TransferListEvent } from '../client/events.js';

/**
 * The page's file transfers, from the core's `transfer` and `transfers` events (the
 * `--json` shapes). Pure (no DOM), tested in Node. Names are peer-supplied: shown as text.
 */

const MAX_TRANSFERS = 200;

export type TransferPhase = TransferEvent['phase'] | 'accepting' | 'uploading';

export interface Transfer {
  id: string;
  direction: 'up' | 'down';
  peer: string;
  room?: string;
  name: string;
  size: number;
  bytes: number;
  phase: TransferPhase;
  rate?: number;
  etaSeconds?: number;
  path?: string;
  reason?: string;
  ts: number;
}

/** Whether a transfer is over (nothing more will move). */
export function finished(transfer: Transfer): boolean {
  return ['done', 'failed', 'cancelled', 'rejected'].includes(transfer.phase);
}

/** The conversation a transfer belongs to: the room, else the other party. */
export function transferConversation(transfer: Pick<Transfer, 'room' | 'peer'>): string {
  return transfer.room ?? transfer.peer;
}

/** Whole percent moved (0 for an empty file until it is done). */
export function percent(transfer: Transfer): number {
  if (transfer.phase === 'done') return 100;
  if (transfer.size === 0) return 0;
  return Math.min(100, Math.floor((transfer.bytes / transfer.size) * 100));
}

/** Bytes for people (1000-based, like the terminal). */
export function bytesText(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "1.2 MB/s, 3 s left" while moving, else "". */
export function rateText(transfer: Transfer): string {
  if (finished(transfer) || transfer.rate === undefined) return '';
  const eta =
    transfer.etaSeconds === undefined
      ? ''
      : transfer.etaSeconds >= 90
        ? `, ${Math.ceil(transfer.etaSeconds / 60)} min left`
        : `, ${transfer.etaSeconds} s left`;
  return `${bytesText(transfer.rate)}/s${eta}`;
}

export class TransferBook {
  #all = new Map<string, Transfer>();
  /** The largest upload the local securechat takes (from `hello`); undefined: none. */
  maxUpload: number | undefined;
  /** Local uploads between the page's POST and the core's first event (by file name). */
  uploading: Array<{ to: string; name: string; size: number; error?: string }> = [];

  get(id: string): Transfer | undefined {
    return this.#all.get(id);
  }

  /** Every transfer, newest last. */
  list(): Transfer[] {
    return [...this.#all.values()].sort((a, b) => a.ts - b.ts);
  }

  /** The transfers of one conversation (key: lower-case name or #room), newest last. */
  of(conversation: string): Transfer[] {
    return this.list().filter((t) => transferConversation(t).toLowerCase() === conversation);
  }

  /** Why a file of `size` bytes cannot be sent from the page, or undefined. */
  uploadRefusal(size: number): string | undefined {
    if (this.maxUpload === undefined) return 'file transfer is not available here';
    if (size > this.maxUpload)
      return `it is larger than ${bytesText(this.maxUpload)}, the most the page can send`;
    return undefined;
  }

  /** Offers waiting for an answer. */
  pending(): Transfer[] {
    return this.list().filter((t) => t.direction === 'down' && t.phase === 'offer');
  }

  /** Applies one event; returns the transfer it changed. */
  apply(event: TransferEvent | TransferListEvent): Transfer | undefined {
    if (event.kind === 'transfers') {
      // The list carries no progress (bytes 0): a known transfer only learns that it ended.
      for (const item of event.transfers) {
        const { state, ...rest } = item;
        const phase: TransferPhase =
          state === 'offered'
            ? 'offer'
            : ['done', 'failed', 'cancelled', 'rejected'].includes(state)
              ? (state as TransferPhase)
              : 'progress';
        const known = this.#all.get(item.id);
        if (!known) this.#put({ ...rest, phase, ts: event.ts });
        else if (finished({ ...known, phase }) && !finished(known))
          this.#put({
            ...known,
            ...rest,
            bytes: phase === 'done' ? known.size : known.bytes,
            phase,
          });
      }
      return undefined;
    }
    const { kind: _kind, phase, ...rest } = event;
    const known = this.#all.get(event.id);
    const next: Transfer = {
      ...known,
      ...rest,
      phase: phase === 'started' ? 'progress' : phase,
      ts: known?.ts ?? event.ts,
    };
    if (phase !== 'progress') {
      delete next.rate;
      delete next.etaSeconds;
    }
    if (phase === 'progress' || phase === 'started') {
      if (event.rate === undefined) delete next.rate;
      if (event.etaSeconds === undefined) delete next.etaSeconds;
    }
    if (event.direction === 'up')
      this.uploading = this.uploading.filter(
        (u) => !(u.to.toLowerCase() === event.peer.toLowerCase() && u.name === event.name),
      );
    this.#put(next);
    return next;
  }

  /** The page answered an offer: shown as waiting until the core's next event. */
  answered(id: string, accept: boolean): void {
    const transfer = this.#all.get(id);
    if (transfer?.phase === 'offer') transfer.phase = accept ? 'accepting' : 'rejected';
  }

  #put(transfer: Transfer): void {
    this.#all.set(transfer.id, transfer);
    if (this.#all.size > MAX_TRANSFERS) {
      const oldest = this.list().find((t) => finished(t));
      if (oldest) this.#all.delete(oldest.id);
    }
  }
}
