import type Database from 'better-sqlite3';
import { nameKey } from '../../protocol/index.js';
import type {
  EnqueueResult,
  FetchedNoticeLimits,
  MailboxQuota,
  MailboxRecipientRule,
  MailboxStore,
  NewStoredMessage,
  StoredMessage,
} from './types.js';

/**
 * Stored messages for offline recipients, with quotas per recipient, per (recipient,
 * sender), per sender identity, per sender address and in all (names are free, so
 * counting per name alone holds nothing). Usage is kept in `mailbox_usage` by triggers on
 * every insert and delete, so checking a quota costs a few key lookups however much is
 * stored (summing rows per insert let an attacker make every insert slower).
 */
export class SqliteMailbox implements MailboxStore {
  #db: Database.Database;
  #stmt: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = prepare(db);
  }

  /** Bytes stored in all (for metrics). */
  async totalBytes(): Promise<number> {
    return this.#usage('all', '').bytes;
  }

  #usage(kind: string, key: string): { messages: number; bytes: number } {
    return this.#stmt.usage.get(kind, key) ?? { messages: 0, bytes: 0 };
  }

  async enqueue(
    message: NewStoredMessage,
    now: number,
    quota: MailboxQuota,
    rule?: MailboxRecipientRule,
  ): Promise<EnqueueResult> {
    const to = nameKey(message.recipient);
    const from = nameKey(message.sender);
    const bytes = message.line.length;
    const enqueue = this.#db.transaction((): EnqueueResult => {
      if (rule && !this.#accepts(to, rule)) return { ok: false, reason: 'no_mailbox' };
      if (bytes > quota.messageMaxBytes) return { ok: false, reason: 'too_large' };
      const recipient = this.#usage('recipient', to);
      if (
        recipient.messages >= quota.perRecipient ||
        recipient.bytes + bytes > quota.recipientBytes
      )
        return { ok: false, reason: 'recipient_full' };
      if (
        this.#usage('pair', `${to}\u0000${from}`).messages >= quota.perSender ||
        this.#usage('sender', message.senderKey).bytes + bytes > quota.senderBytes
      )
        return { ok: false, reason: 'sender_quota' };
      if (
        message.senderAddress !== undefined &&
        this.#usage('address', message.senderAddress).bytes + bytes > quota.addressBytes
      )
        return { ok: false, reason: 'address_quota' };
      if (this.#usage('all', '').bytes + bytes > quota.totalBytes)
        return { ok: false, reason: 'server_full' };
      const result = this.#stmt.insert.run(
        to,
        from,
        message.line,
        now,
        bytes,
        message.senderKey,
        message.senderAddress ?? null,
      );
      return { ok: true, seq: Number(result.lastInsertRowid) };
    });
    return enqueue.immediate();
  }

  #accepts(recipientKey: string, rule: MailboxRecipientRule): boolean {
    const row = this.#stmt.recipient.get(recipientKey);
    if (!row || row.last_seen < rule.seenSince) return false;
    try {
      const caps = JSON.parse(row.caps) as unknown;
      return Array.isArray(caps) && caps.includes(rule.capability);
    } catch {
      return false;
    }
  }

  async pending(
    recipient: string,
    afterSeq: number,
    notBefore: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    return this.#stmt.pending.all(nameKey(recipient), afterSeq, notBefore, limit);
  }

  async acknowledge(recipient: string, upto: number): Promise<number> {
    return this.#stmt.acknowledge.run(nameKey(recipient), upto).changes;
  }

  async expire(before: number): Promise<number> {
    return this.#db.transaction(() => {
      this.#stmt.expireFetched.run(before);
      return this.#stmt.expire.run(before).changes;
    })();
  }

  async keepFetched(
    sender: string,
    id: string,
    now: number,
    limits: FetchedNoticeLimits,
  ): Promise<void> {
    const key = nameKey(sender);
    this.#db.transaction(() => {
      this.#stmt.keepFetched.run(key, id, now);
      this.#stmt.trimFetched.run(key, key, Math.max(0, limits.max));
    })();
  }

  async takeFetched(sender: string, notBefore: number): Promise<string[]> {
    const key = nameKey(sender);
    return this.#db.transaction(() => {
      const ids = this.#stmt.fetched.all(key, notBefore).map((row) => row.id);
      this.#stmt.dropFetched.run(key);
      return ids;
    })();
  }

  /** Drops everything stored for `recipient` (its name was freed). */
  async dropRecipient(recipient: string): Promise<number> {
    return this.dropRecipientNow(recipient);
  }

  /** {@link dropRecipient} inside a caller's transaction. */
  dropRecipientNow(recipient: string): number {
    this.#stmt.dropFetched.run(nameKey(recipient));
    return this.#stmt.dropRecipient.run(nameKey(recipient)).changes;
  }
}

function prepare(db: Database.Database) {
  return {
    recipient: db.prepare<[string], { last_seen: number; caps: string }>(
      'SELECT last_seen, caps FROM identity_binding WHERE name_key = ?',
    ),
    usage: db.prepare<[string, string], { messages: number; bytes: number }>(
      'SELECT messages, bytes FROM mailbox_usage WHERE kind = ? AND key = ?',
    ),
    insert: db.prepare<[string, string, string, number, number, string, string | null]>(
      `INSERT INTO mailbox (recipient, sender, line, created_at, bytes, sender_key, sender_address)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    pending: db.prepare<[string, number, number, number], StoredMessage>(
      `SELECT seq, line FROM mailbox WHERE recipient = ? AND seq > ? AND created_at >= ?
       ORDER BY seq LIMIT ?`,
    ),
    acknowledge: db.prepare<[string, number]>(
      'DELETE FROM mailbox WHERE recipient = ? AND seq <= ?',
    ),
    expire: db.prepare<[number]>('DELETE FROM mailbox WHERE created_at < ?'),
    dropRecipient: db.prepare<[string]>('DELETE FROM mailbox WHERE recipient = ?'),
    keepFetched: db.prepare<[string, string, number]>(
      'INSERT INTO fetched_notice (sender, id, created_at) VALUES (?, ?, ?)',
    ),
    trimFetched: db.prepare<[string, string, number]>(
      `DELETE FROM fetched_notice WHERE sender = ? AND seq NOT IN
         (SELECT seq FROM fetched_notice WHERE sender = ? ORDER BY seq DESC LIMIT ?)`,
    ),
    fetched: db.prepare<[string, number], { id: string }>(
      'SELECT id FROM fetched_notice WHERE sender = ? AND created_at >= ? ORDER BY seq',
    ),
    dropFetched: db.prepare<[string]>('DELETE FROM fetched_notice WHERE sender = ?'),
    expireFetched: db.prepare<[number]>('DELETE FROM fetched_notice WHERE created_at < ?'),
  };
}
