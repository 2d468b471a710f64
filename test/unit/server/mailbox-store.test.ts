import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/server/store/index.js';
import { MIGRATIONS, migrate } from '../../../src/server/store/migrations.js';

const roomy = {
  perRecipient: 1000,
  perSender: 1000,
  messageMaxBytes: 1000,
  recipientBytes: 1e9,
  senderBytes: 1e9,
  addressBytes: 1e9,
  totalBytes: 1e9,
};
const line = (bytes: number) => `{"type":"relay","cipher":"${'A'.repeat(bytes - 29)}"}\n`;

/** What the quotas must see: sums over the rows themselves. */
function sums(db: Database.Database) {
  return db
    .prepare(
      `SELECT 'sender' AS kind, sender_key AS key, count(*) AS messages, sum(bytes) AS bytes FROM mailbox GROUP BY 2
       UNION ALL SELECT 'recipient', recipient, count(*), sum(bytes) FROM mailbox GROUP BY 2
       UNION ALL SELECT 'address', sender_address, count(*), sum(bytes) FROM mailbox WHERE sender_address IS NOT NULL GROUP BY 2
       ORDER BY 1, 2`,
    )
    .all();
}
function usage(db: Database.Database) {
  return db
    .prepare(
      "SELECT kind, key, messages, bytes FROM mailbox_usage WHERE kind IN ('sender', 'recipient', 'address') ORDER BY 1, 2",
    )
    .all();
}

describe('mailbox quotas in SQLite', () => {
  it('refuses by size, recipient, pair, sender identity, address and total', async () => {
    const store = new SqliteStore(':memory:');
    const m = (over: Partial<typeof roomy>) => ({ ...roomy, ...over });
    const msg = (to: string, from: string, key: string, address?: string, bytes = 100) => ({
      recipient: to,
      sender: from,
      senderKey: key,
      ...(address ? { senderAddress: address } : {}),
      line: line(bytes),
    });
    expect(
      await store.mailbox.enqueue(msg('r', 's', 'k', 'a', 200), 0, m({ messageMaxBytes: 199 })),
    ).toEqual({
      ok: false,
      reason: 'too_large',
    });
    expect(
      (await store.mailbox.enqueue(msg('r', 's', 'k', 'a'), 0, m({ recipientBytes: 150 }))).ok,
    ).toBe(true);
    expect(
      await store.mailbox.enqueue(msg('r', 's2', 'k2', 'a2'), 0, m({ recipientBytes: 150 })),
    ).toMatchObject({
      reason: 'recipient_full',
    });
    expect(
      await store.mailbox.enqueue(msg('r', 's', 'k', 'a'), 0, m({ perSender: 1 })),
    ).toMatchObject({
      reason: 'sender_quota',
    });
    expect(
      await store.mailbox.enqueue(msg('r2', 'x', 'k', 'a'), 0, m({ senderBytes: 150 })),
    ).toMatchObject({
      reason: 'sender_quota',
    });
    expect(
      await store.mailbox.enqueue(msg('r3', 'y', 'k9', 'a'), 0, m({ addressBytes: 150 })),
    ).toMatchObject({
      reason: 'address_quota',
    });
    expect(
      (await store.mailbox.enqueue(msg('r3', 'y', 'k9'), 0, m({ addressBytes: 150 }))).ok,
    ).toBe(true);
    expect(await store.mailbox.totalBytes()).toBe(200);
    expect(
      await store.mailbox.enqueue(msg('r4', 'z', 'k8'), 0, m({ totalBytes: 250 })),
    ).toMatchObject({
      reason: 'server_full',
    });
  });

  it('keeps usage equal to the rows through inserts, acknowledgements, expiry and freed names', async () => {
    const store = new SqliteStore(':memory:');
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 600; step++) {
      const op = rand(10);
      const to = `r${rand(4)}`;
      if (op < 7) {
        await store.mailbox.enqueue(
          {
            recipient: to,
            sender: `s${rand(5)}`,
            senderKey: `k${rand(3)}`,
            ...(rand(2) ? { senderAddress: `a${rand(3)}` } : {}),
            line: line(40 + rand(200)),
          },
          step,
          roomy,
        );
      } else if (op === 7) await store.mailbox.acknowledge(to, rand(600));
      else if (op === 8) await store.mailbox.expire(step - 100);
      else await store.mailbox.dropRecipient(to);
    }
    expect(usage(store.db)).toEqual(sums(store.db));
    const total = store.db.prepare('SELECT COALESCE(sum(bytes), 0) AS n FROM mailbox').get() as {
      n: number;
    };
    expect(await store.mailbox.totalBytes()).toBe(total.n);
  });

  it('builds the usage of messages stored before the upgrade', () => {
    const db = new Database(':memory:');
    for (const sql of MIGRATIONS.slice(0, 3)) db.exec(sql);
    db.pragma('user_version = 3');
    const insert = db.prepare(
      'INSERT INTO mailbox (recipient, sender, line, created_at) VALUES (?, ?, ?, 0)',
    );
    insert.run('bob', 'alice', line(100));
    insert.run('bob', 'carol', line(60));
    insert.run('dave', 'alice', line(80));
    migrate(db);
    expect(usage(db)).toEqual(sums(db));
    expect(
      db.prepare("SELECT messages, bytes FROM mailbox_usage WHERE kind = 'all'").get(),
    ).toEqual({ messages: 3, bytes: 240 });
    expect(
      db
        .prepare("SELECT messages FROM mailbox_usage WHERE kind = 'pair' AND key = ?")
        .get('bob\u0000alice'),
    ).toEqual({ messages: 1 });
  });
});
