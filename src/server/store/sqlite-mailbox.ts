import type Database from 'better-sqlite3';
import { nameKey } from '../../protocol/index.js';
import type { EnqueueResult, MailboxQuota, NewStoredMessage, StoredMessage } from './types.js';

/**
 * Stored messages for offline recipients, with byte quotas per recipient, per sender
 * identity, per sender address and in all (names are free, so counting per name alone
 * holds nothing). The running total is kept in memory, the rest is read per insert
 * through indexes.
 */
export class SqliteMailbox {
  #db: Database.Database;
  #stmt: ReturnType<typeof prepare>;
  #totalBytes: number;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = prepare(db);
    this.#totalBytes = this.#stmt.total.get()?.n ?? 0;
  }

  /** Bytes stored in all (for metrics). */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  enqueue(message: NewStoredMessage, now: number, quota: MailboxQuota): EnqueueResult {
    const to = nameKey(message.recipient);
    const from = nameKey(message.sender);
    const bytes = message.line.length;
    const s = this.#stmt;
    const enqueue = this.#db.transaction((): EnqueueResult => {
      if (bytes > quota.messageMaxBytes) return { ok: false, reason: 'too_large' };
      const recipient = s.forRecipient.get(to);
      if ((recipient?.n ?? 0) >= quota.perRecipient) return { ok: false, reason: 'recipient_full' };
      if ((recipient?.bytes ?? 0) + bytes > quota.recipientBytes)
        return { ok: false, reason: 'recipient_full' };
      if ((s.forPair.get(to, from)?.n ?? 0) >= quota.perSender)
        return { ok: false, reason: 'sender_quota' };
      if ((s.bytesForSender.get(message.senderKey)?.n ?? 0) + bytes > quota.senderBytes)
        return { ok: false, reason: 'sender_quota' };
      if (
        message.senderAddress !== undefined &&
        (s.bytesForAddress.get(message.senderAddress)?.n ?? 0) + bytes > quota.addressBytes
      )
        return { ok: false, reason: 'address_quota' };
      if (this.#totalBytes + bytes > quota.totalBytes) return { ok: false, reason: 'server_full' };
      const result = s.insert.run(
        to,
        from,
        message.line,
        now,
        bytes,
        message.senderKey,
        message.senderAddress ?? null,
      );
      this.#totalBytes += bytes;
      return { ok: true, seq: Number(result.lastInsertRowid) };
    });
    return enqueue();
  }

  pending(recipient: string, afterSeq: number, notBefore: number, limit: number): StoredMessage[] {
    return this.#stmt.pending.all(nameKey(recipient), afterSeq, notBefore, limit);
  }

  acknowledge(recipient: string, upto: number): number {
    return this.#delete(this.#stmt.bytesUpto, this.#stmt.acknowledge, [nameKey(recipient), upto]);
  }

  expire(before: number): number {
    return this.#delete(this.#stmt.bytesBefore, this.#stmt.expire, [before]);
  }

  /** Drops everything stored for `recipient` (its name was freed). */
  dropRecipient(recipient: string): number {
    return this.#delete(this.#stmt.bytesFor, this.#stmt.dropRecipient, [nameKey(recipient)]);
  }

  #delete<P extends unknown[]>(
    measure: Database.Statement<P, { n: number }>,
    remove: Database.Statement<P>,
    params: P,
  ): number {
    const run = this.#db.transaction(() => {
      const bytes = measure.get(...params)?.n ?? 0;
      const changes = remove.run(...params).changes;
      this.#totalBytes = Math.max(0, this.#totalBytes - bytes);
      return changes;
    });
    return run();
  }
}

function prepare(db: Database.Database) {
  return {
    total: db.prepare<[], { n: number }>('SELECT COALESCE(SUM(bytes), 0) AS n FROM mailbox'),
    forRecipient: db.prepare<[string], { n: number; bytes: number }>(
      'SELECT count(*) AS n, COALESCE(SUM(bytes), 0) AS bytes FROM mailbox WHERE recipient = ?',
    ),
    forPair: db.prepare<[string, string], { n: number }>(
      'SELECT count(*) AS n FROM mailbox WHERE recipient = ? AND sender = ?',
    ),
    bytesForSender: db.prepare<[string], { n: number }>(
      'SELECT COALESCE(SUM(bytes), 0) AS n FROM mailbox WHERE sender_key = ?',
    ),
    bytesForAddress: db.prepare<[string], { n: number }>(
      'SELECT COALESCE(SUM(bytes), 0) AS n FROM mailbox WHERE sender_address = ?',
    ),
    insert: db.prepare<[string, string, string, number, number, string, string | null]>(
      `INSERT INTO mailbox (recipient, sender, line, created_at, bytes, sender_key, sender_address)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    pending: db.prepare<[string, number, number, number], StoredMessage>(
      `SELECT seq, line FROM mailbox WHERE recipient = ? AND seq > ? AND created_at >= ?
       ORDER BY seq LIMIT ?`,
    ),
    bytesUpto: db.prepare<[string, number], { n: number }>(
      'SELECT COALESCE(SUM(bytes), 0) AS n FROM mailbox WHERE recipient = ? AND seq <= ?',
    ),
    acknowledge: db.prepare<[string, number]>(
      'DELETE FROM mailbox WHERE recipient = ? AND seq <= ?',
    ),
    bytesBefore: db.prepare<[number], { n: number }>(
      'SELECT COALESCE(SUM(bytes), 0) AS n FROM mailbox WHERE created_at < ?',
    ),
    expire: db.prepare<[number]>('DELETE FROM mailbox WHERE created_at < ?'),
    bytesFor: db.prepare<[string], { n: number }>(
      'SELECT COALESCE(SUM(bytes), 0) AS n FROM mailbox WHERE recipient = ?',
    ),
    dropRecipient: db.prepare<[string]>('DELETE FROM mailbox WHERE recipient = ?'),
  };
}
