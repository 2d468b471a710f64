import {
  fromBase64,
  type IdentityKeyPair,
  type KemKeyPair,
  type KemPrekeyWire,
  kemKeyPair,
  MLKEM1024_SEED_BYTES,
  newKemSeed,
  SIGNED_PREKEY_MAX_FUTURE_MS,
  SIGNED_PREKEY_RETENTION_MS,
  SIGNED_PREKEY_ROTATION_MS,
  secureRandom,
  signKemPrekey,
  toBase64,
} from '../../protocol/index.js';
import type { RowCipher } from '../state/row-cipher.js';
import type { StateDb } from '../state/state-db.js';

/** One-time KEM prekey secrets kept at most (the oldest go first; the server keeps 100). */
export const KEM_PREKEY_SECRETS = 150;
/** One-time KEM prekeys made per hour at most, whatever the server's counts say. */
export const KEM_PREKEYS_PER_HOUR = 100;
/** Last-resort ids have the top bit set; one-time ids count up below it: never the same id. */
const LAST_RESORT_ID_BIT = 0x80000000;

/** One of our KEM prekeys, by its 64-byte seed (the key pair is regenerated from it). */
interface OwnKemPrekey {
  id: number;
  created: number;
  lastResort: boolean;
  /** When a last-resort key stopped being the current one. */
  retired?: number;
  seed: Uint8Array;
  sig: Uint8Array;
  /** Its encapsulation key, Base64 (derived from the seed on first use, kept in memory). */
  pub?: string;
}

interface KemRow {
  seed: string;
  sig: string;
}

/**
 * Our ML-KEM-1024 prekeys for PQXDH (as prekey-store.ts keeps the X25519 ones): one-time
 * ones, bounded in number and in how many are made per hour; and a signed last-resort one,
 * rotated with the signed prekey's schedule on our own clock, the previous one's secret kept
 * {@link SIGNED_PREKEY_RETENTION_MS} after it was replaced (stored first messages still
 * open) and then deleted. Only the 64-byte seed is stored (sealed): the 3,168-byte
 * decapsulation key is regenerated from it when an init arrives.
 */
export class KemPrekeyStore {
  #db: StateDb;
  #cipher: RowCipher;
  #identity: IdentityKeyPair;
  #now: () => number;
  #keys = new Map<number, OwnKemPrekey>();
  #tokens = KEM_PREKEYS_PER_HOUR;
  #refilledAt: number;

  constructor(db: StateDb, cipher: RowCipher, identity: IdentityKeyPair, now: () => number) {
    this.#db = db;
    this.#cipher = cipher;
    this.#identity = identity;
    this.#now = now;
    this.#refilledAt = now();
    this.#load();
    if (!this.#current()) this.maintain();
  }

  get oneTimeCount(): number {
    let n = 0;
    for (const key of this.#keys.values()) if (!key.lastResort) n++;
    return n;
  }

  /** The key pair of our KEM prekey `id` (a retired last resort only within its retention). */
  keyPair(id: number): (KemKeyPair & { oneTime: boolean }) | undefined {
    const key = this.#keys.get(id);
    if (!key) return undefined;
    if (key.retired !== undefined && this.#now() >= key.retired + SIGNED_PREKEY_RETENTION_MS)
      return undefined;
    return { ...kemKeyPair(key.seed), oneTime: !key.lastResort };
  }

  /** Deletes a used one-time KEM prekey (in the transaction that stores its session). */
  use(id: number): void {
    const key = this.#keys.get(id);
    if (!key || key.lastResort) return;
    this.#remove(key);
  }

  /**
   * Makes up to `count` one-time KEM prekeys, within this hour's allowance; beyond
   * {@link KEM_PREKEY_SECRETS} held, the oldest are deleted. Returns their uploads.
   */
  newOneTime(count: number): KemPrekeyWire[] {
    const now = this.#now();
    this.#tokens = Math.min(
      KEM_PREKEYS_PER_HOUR,
      this.#tokens + ((now - this.#refilledAt) * KEM_PREKEYS_PER_HOUR) / 3_600_000,
    );
    this.#refilledAt = now;
    const n = Math.max(0, Math.min(count, Math.floor(this.#tokens)));
    if (n === 0) return [];
    this.#tokens -= n;
    const out: KemPrekeyWire[] = [];
    this.#db.write(() => {
      let next = Number(this.#db.meta('next_kem_prekey_id') ?? '1');
      for (let i = 0; i < n; i++) {
        const id = next % LAST_RESORT_ID_BIT || 1;
        next = id + 1;
        out.push(this.#wire(this.#create(id, now, false)));
      }
      this.#db.setMeta('next_kem_prekey_id', String(next));
      const oneTime = [...this.#keys.values()].filter((k) => !k.lastResort);
      for (const old of oneTime.slice(0, Math.max(0, oneTime.length - KEM_PREKEY_SECRETS)))
        this.#remove(old);
    });
    return out;
  }

  /** The current last-resort KEM prekey (made on first use). */
  get lastResort(): KemPrekeyWire {
    let current = this.#current();
    if (!current) {
      this.maintain();
      current = this.#current()!;
    }
    return this.#wire(current);
  }

  /**
   * Makes the first last-resort key, rotates it when due (or `force`), and deletes a retired
   * one after its retention (or when a rotation makes a newer one retired). Returns whether
   * it rotated.
   */
  maintain(force = false): boolean {
    const now = this.#now();
    const current = this.#current();
    const due =
      !current ||
      force ||
      now - current.created >= SIGNED_PREKEY_ROTATION_MS ||
      current.created > now + SIGNED_PREKEY_MAX_FUTURE_MS;
    this.#db.write(() => {
      for (const old of [...this.#keys.values()]) {
        if (old.retired === undefined) continue;
        if (due || now >= old.retired + SIGNED_PREKEY_RETENTION_MS) this.#remove(old);
      }
      if (!due) return;
      if (current) {
        current.retired = now;
        this.#db.db.prepare('UPDATE kem_prekey SET retired = ? WHERE id = ?').run(now, current.id);
      }
      const id = (LAST_RESORT_ID_BIT | new DataView(secureRandom(4).buffer).getUint32(0)) >>> 0;
      this.#create(id, Math.max(now, (current?.created ?? 0) + 1), true);
    });
    return due;
  }

  #current(): OwnKemPrekey | undefined {
    for (const key of this.#keys.values())
      if (key.lastResort && key.retired === undefined) return key;
    return undefined;
  }

  #create(id: number, created: number, lastResort: boolean): OwnKemPrekey {
    const seed = newKemSeed();
    const { publicKey } = kemKeyPair(seed);
    const sig = signKemPrekey(this.#identity.secretKey, { id, created, lastResort, publicKey });
    const key: OwnKemPrekey = { id, created, lastResort, seed, sig, pub: toBase64(publicKey) };
    const row: KemRow = { seed: toBase64(seed), sig: toBase64(sig) };
    this.#db.db
      .prepare(
        'INSERT OR REPLACE INTO kem_prekey (id, created, last_resort, retired, data) VALUES (?, ?, ?, NULL, ?)',
      )
      .run(id, created, lastResort ? 1 : 0, this.#cipher.seal('kem_prekey', String(id), row));
    this.#keys.set(id, key);
    return key;
  }

  #wire(key: OwnKemPrekey): KemPrekeyWire {
    if (key.pub === undefined) key.pub = toBase64(kemKeyPair(key.seed).publicKey);
    return {
      id: key.id,
      created: key.created,
      pub: key.pub,
      sig: toBase64(key.sig),
    };
  }

  #remove(key: OwnKemPrekey): void {
    this.#db.db.prepare('DELETE FROM kem_prekey WHERE id = ?').run(key.id);
    key.seed.fill(0);
    this.#keys.delete(key.id);
  }

  #load(): void {
    const rows = this.#db.db
      .prepare(
        'SELECT id, created, last_resort, retired, data FROM kem_prekey ORDER BY created, id',
      )
      .all() as Array<{
      id: number;
      created: number;
      last_resort: number;
      retired: number | null;
      data: Uint8Array;
    }>;
    for (const row of rows) {
      const data = this.#cipher.open<KemRow>('kem_prekey', String(row.id), row.data);
      this.#keys.set(row.id, {
        id: row.id,
        created: row.created,
        lastResort: row.last_resort === 1,
        ...(row.retired === null ? {} : { retired: row.retired }),
        seed: fromBase64(data.seed, 'kem seed', MLKEM1024_SEED_BYTES),
        sig: fromBase64(data.sig, 'kem sig', 64),
      });
    }
  }
}
