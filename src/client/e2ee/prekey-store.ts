import {
  fromBase64,
  generateX25519KeyPair,
  type IdentityKeyPair,
  SIGNED_PREKEY_MAX_FUTURE_MS,
  SIGNED_PREKEY_RETENTION_MS,
  SIGNED_PREKEY_ROTATION_MS,
  SignedPrekeyKind,
  type SignedPrekeyUpload,
  secureRandom,
  signPrekey,
  signSignedPrekey,
  toBase64,
  type X25519KeyPair,
  x25519PublicKey,
} from '../../protocol/index.js';
import type { RowCipher } from '../state/row-cipher.js';
import type { StateDb } from '../state/state-db.js';
import type { ClientLimits } from './limits.js';

/** A signed prekey of ours with its secret. */
export interface OwnSignedPrekey {
  id: number;
  created: number;
  /** When it stopped being the current one (undefined: it is current). */
  retired?: number;
  pair: X25519KeyPair;
  sig: Uint8Array;
  pubsig: Uint8Array;
}

interface SignedRow {
  secret: string;
  sig: string;
  pubsig: string;
}

const KIND = SignedPrekeyKind.x25519;

/**
 * Prekey secrets of one identity. One-time prekeys: bounded in number (the oldest go first)
 * and in how many are made per hour, whatever the server says it holds. Signed prekeys: a
 * current one, rotated every {@link SIGNED_PREKEY_ROTATION_MS} on our own clock only (the
 * server cannot make us rotate, or keep a key), and the previous one, whose secret is kept
 * {@link SIGNED_PREKEY_RETENTION_MS} after it was replaced (so first messages stored for us
 * still open) and then deleted.
 */
export class PrekeyStore {
  #db: StateDb;
  #cipher: RowCipher;
  #identity: IdentityKeyPair;
  #limits: ClientLimits;
  #now: () => number;
  #oneTime = new Map<number, { secret: Uint8Array; created: number }>();
  #signed: OwnSignedPrekey[] = [];
  #tokens: number;
  #refilledAt: number;

  constructor(
    db: StateDb,
    cipher: RowCipher,
    identity: IdentityKeyPair,
    options: { limits: ClientLimits; now: () => number },
  ) {
    this.#db = db;
    this.#cipher = cipher;
    this.#identity = identity;
    this.#limits = options.limits;
    this.#now = options.now;
    this.#tokens = options.limits.oneTimePrekeysPerHour;
    this.#refilledAt = this.#now();
    this.#load();
  }

  // --- one-time prekeys ---

  oneTimePrekey(id: number): Uint8Array | undefined {
    return this.#oneTime.get(id)?.secret;
  }

  get oneTimePrekeyCount(): number {
    return this.#oneTime.size;
  }

  /** Deletes a used one-time prekey (in the transaction that stores its session). */
  useOneTimePrekey(id: number): void {
    const entry = this.#oneTime.get(id);
    if (!entry) return;
    this.#db.write(() => this.#db.db.prepare('DELETE FROM one_time_prekey WHERE id = ?').run(id));
    entry.secret.fill(0);
    this.#oneTime.delete(id);
  }

  /**
   * Makes up to `count` new one-time prekeys, as many as this hour's allowance leaves
   * ({@link ClientLimits.oneTimePrekeysPerHour}); beyond {@link ClientLimits.oneTimePrekeySecrets}
   * held, the oldest secrets are deleted. Returns the public halves to upload.
   */
  newOneTimePrekeys(count: number): Array<{ id: number; pub: string }> {
    const now = this.#now();
    const perHour = this.#limits.oneTimePrekeysPerHour;
    this.#tokens = Math.min(
      perHour,
      this.#tokens + ((now - this.#refilledAt) * perHour) / 3_600_000,
    );
    this.#refilledAt = now;
    const n = Math.max(
      0,
      Math.min(count, Math.floor(this.#tokens), this.#limits.oneTimePrekeySecrets),
    );
    if (n === 0) return [];
    this.#tokens -= n;
    const out: Array<{ id: number; pub: string }> = [];
    this.#db.write(() => {
      let next = Number(this.#db.meta('next_prekey_id') ?? '1');
      const insert = this.#db.db.prepare(
        'INSERT OR REPLACE INTO one_time_prekey (id, created, data) VALUES (?, ?, ?)',
      );
      for (let i = 0; i < n; i++) {
        const id = next % 0xffffffff;
        next = id + 1;
        const pair = generateX25519KeyPair();
        insert.run(
          id,
          now,
          this.#cipher.seal('one_time_prekey', String(id), toBase64(pair.secretKey)),
        );
        this.#oneTime.set(id, { secret: pair.secretKey, created: now });
        out.push({ id, pub: toBase64(pair.publicKey) });
      }
      this.#db.setMeta('next_prekey_id', String(next));
      const excess = this.#oneTime.size - this.#limits.oneTimePrekeySecrets;
      if (excess > 0) {
        const oldest = [...this.#oneTime].slice(0, excess);
        for (const [id, entry] of oldest) {
          this.#db.db.prepare('DELETE FROM one_time_prekey WHERE id = ?').run(id);
          entry.secret.fill(0);
          this.#oneTime.delete(id);
        }
      }
    });
    return out;
  }

  /** Imports one-time prekey secrets of an older store (migration). */
  importOneTimePrekeys(keys: ReadonlyArray<[number, Uint8Array]>, nextId: number): void {
    const now = this.#now();
    const insert = this.#db.db.prepare(
      'INSERT OR REPLACE INTO one_time_prekey (id, created, data) VALUES (?, ?, ?)',
    );
    for (const [id, secret] of keys.slice(-this.#limits.oneTimePrekeySecrets)) {
      insert.run(id, now, this.#cipher.seal('one_time_prekey', String(id), toBase64(secret)));
      this.#oneTime.set(id, { secret, created: now });
    }
    this.#db.setMeta('next_prekey_id', String(nextId));
  }

  // --- signed prekeys ---

  /** The current signed prekey (made on first use). */
  get current(): OwnSignedPrekey {
    if (!this.#signed.some((k) => k.retired === undefined)) this.maintain();
    return this.#signed.find((k) => k.retired === undefined)!;
  }

  /** The previous signed prekey while its secret is kept. */
  get previous(): OwnSignedPrekey | undefined {
    return this.#signed.find((k) => k.retired !== undefined);
  }

  /** Our signed prekey with this public key, if its secret is still kept. */
  signedPrekeyFor(publicKey: Uint8Array): X25519KeyPair | undefined {
    const wanted = toBase64(publicKey);
    const now = this.#now();
    return this.#signed.find(
      (k) =>
        toBase64(k.pair.publicKey) === wanted &&
        (k.retired === undefined || now < k.retired + SIGNED_PREKEY_RETENTION_MS),
    )?.pair;
  }

  /**
   * Makes the first signed prekey, rotates the current one when it is due (or `force`), and
   * deletes the previous one's secret once its retention is over (or when a rotation makes
   * a newer previous). Returns whether it rotated and the public keys whose secrets went.
   */
  maintain(force = false): { rotated: boolean; deleted: Uint8Array[] } {
    const now = this.#now();
    const current = this.#signed.find((k) => k.retired === undefined);
    const due =
      !current ||
      force ||
      now - current.created >= SIGNED_PREKEY_ROTATION_MS ||
      current.created > now + SIGNED_PREKEY_MAX_FUTURE_MS;
    const deleted: Uint8Array[] = [];
    this.#db.write(() => {
      for (const old of this.#signed.filter((k) => k.retired !== undefined)) {
        if (due || now >= old.retired! + SIGNED_PREKEY_RETENTION_MS)
          deleted.push(this.#delete(old));
      }
      if (!due) return;
      if (current) {
        current.retired = now;
        this.#db.db
          .prepare('UPDATE signed_prekey SET retired = ? WHERE kind = ? AND id = ?')
          .run(now, KIND, current.id);
      }
      this.#create(Math.max(now, (current?.created ?? 0) + 1));
    });
    return { rotated: due, deleted };
  }

  /** What the server needs of the current signed prekey (`prekeys` upload `spk`). */
  upload(): SignedPrekeyUpload {
    const k = this.current;
    return {
      id: k.id,
      created: k.created,
      pub: toBase64(k.pair.publicKey),
      sig: toBase64(k.sig),
      pubsig: toBase64(k.pubsig),
    };
  }

  #create(created: number): void {
    const pair = generateX25519KeyPair();
    const id = new DataView(secureRandom(4).buffer).getUint32(0);
    const record = { kind: KIND, id, created, publicKey: pair.publicKey };
    const key: OwnSignedPrekey = {
      id,
      created,
      pair,
      sig: signSignedPrekey(this.#identity.secretKey, record),
      pubsig: signPrekey(this.#identity.secretKey, pair.publicKey),
    };
    const row: SignedRow = {
      secret: toBase64(pair.secretKey),
      sig: toBase64(key.sig),
      pubsig: toBase64(key.pubsig),
    };
    this.#db.db
      .prepare(
        'INSERT INTO signed_prekey (kind, id, created, retired, data) VALUES (?, ?, ?, NULL, ?)',
      )
      .run(KIND, id, created, this.#cipher.seal('signed_prekey', `${KIND}|${id}`, row));
    this.#signed.push(key);
  }

  #delete(key: OwnSignedPrekey): Uint8Array {
    this.#db.db.prepare('DELETE FROM signed_prekey WHERE kind = ? AND id = ?').run(KIND, key.id);
    key.pair.secretKey.fill(0);
    this.#signed = this.#signed.filter((k) => k !== key);
    return key.pair.publicKey;
  }

  #load(): void {
    const oneTime = this.#db.db
      .prepare('SELECT id, created, data FROM one_time_prekey ORDER BY created, id')
      .all() as Array<{ id: number; created: number; data: Uint8Array }>;
    for (const row of oneTime) {
      const secret = this.#cipher.open<string>('one_time_prekey', String(row.id), row.data);
      this.#oneTime.set(row.id, { secret: fromBase64(secret, 'prekey', 32), created: row.created });
    }
    const signed = this.#db.db
      .prepare(
        'SELECT id, created, retired, data FROM signed_prekey WHERE kind = ? ORDER BY created',
      )
      .all(KIND) as Array<{
      id: number;
      created: number;
      retired: number | null;
      data: Uint8Array;
    }>;
    for (const row of signed) {
      const data = this.#cipher.open<SignedRow>('signed_prekey', `${KIND}|${row.id}`, row.data);
      const secretKey = fromBase64(data.secret, 'signed prekey', 32);
      this.#signed.push({
        id: row.id,
        created: row.created,
        ...(row.retired === null ? {} : { retired: row.retired }),
        pair: { secretKey, publicKey: x25519PublicKey(secretKey) },
        sig: fromBase64(data.sig, 'sig', 64),
        pubsig: fromBase64(data.pubsig, 'pubsig', 64),
      });
    }
  }
}
