import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nameKey } from '../protocol/index.js';
import { writePrivateFileAtomic } from './config-dir.js';

/** A peer identity remembered on first contact (trust on first use). */
export interface KnownPeer {
  name: string;
  /** Base64 Ed25519 identity key remembered for this name on this server. */
  identityKey: string;
  firstSeen: number;
  verified: boolean;
  verifiedAt?: number;
}

/** How a peer's presented identity key relates to what we remember. */
export type KeyTrust = 'new' | 'known' | 'verified' | 'changed';

interface TrustFile {
  format: 'securechat-known-peers';
  version: 1;
  /** Server certificate pin → peer name key → record. Names are per server. */
  servers: Record<string, Record<string, KnownPeer>>;
}

/**
 * The known-peers file of one local user: `<config>/known-peers/<user>.json`, scoped by the
 * server's certificate pin (the same name on two servers can be two people). Like SSH's
 * known_hosts: the first identity key seen for a name is remembered; a different one later
 * is reported as `changed` and is not accepted until the user trusts it explicitly.
 */
export class TrustStore {
  readonly path: string;
  #data: TrustFile;

  constructor(configDir: string, localUser: string) {
    this.path = join(configDir, 'known-peers', `${nameKey(localUser)}.json`);
    this.#data = { format: 'securechat-known-peers', version: 1, servers: Object.create(null) };
    if (existsSync(this.path)) {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as TrustFile;
      if (
        parsed?.format !== 'securechat-known-peers' ||
        parsed.version !== 1 ||
        typeof parsed.servers !== 'object'
      ) {
        throw new Error(`${this.path} is not a securechat known-peers file`);
      }
      for (const [server, peers] of Object.entries(parsed.servers)) {
        const table: Record<string, KnownPeer> = Object.create(null);
        for (const [key, peer] of Object.entries(peers)) {
          if (typeof peer?.identityKey === 'string' && typeof peer.name === 'string')
            table[key] = peer;
        }
        this.#data.servers[server] = table;
      }
    }
  }

  get(server: string, name: string): KnownPeer | undefined {
    return this.#data.servers[server]?.[nameKey(name)];
  }

  /** Compares a presented identity key with the remembered one (nothing is written). */
  assess(server: string, name: string, identityKey: string): KeyTrust {
    const known = this.get(server, name);
    if (!known) return 'new';
    if (known.identityKey !== identityKey) return 'changed';
    return known.verified ? 'verified' : 'known';
  }

  /** Remembers a first-seen key (no effect when a key is already remembered). */
  rememberIfNew(server: string, name: string, identityKey: string, now = Date.now()): KeyTrust {
    const trust = this.assess(server, name, identityKey);
    if (trust === 'new') this.#put(server, { name, identityKey, firstSeen: now, verified: false });
    return trust === 'new' ? 'known' : trust;
  }

  /** Accepts a (changed) key for `name`: replaces the remembered one, clearing verification. */
  trust(server: string, name: string, identityKey: string, now = Date.now()): void {
    this.#put(server, { name, identityKey, firstSeen: now, verified: false });
  }

  /** Marks the remembered key as verified by safety number. */
  markVerified(server: string, name: string, identityKey: string, now = Date.now()): void {
    const known = this.get(server, name);
    const firstSeen = known?.identityKey === identityKey ? known.firstSeen : now;
    this.#put(server, { name, identityKey, firstSeen, verified: true, verifiedAt: now });
  }

  #put(server: string, peer: KnownPeer): void {
    this.#data.servers[server] ??= Object.create(null);
    this.#data.servers[server]![nameKey(peer.name)] = peer;
    writePrivateFileAtomic(this.path, `${JSON.stringify(this.#data, null, 2)}\n`);
  }
}

/** TOFU store of server certificate pins by `host:port` (`<config>/known-servers.json`). */
export class KnownServers {
  readonly path: string;
  #servers: Record<string, { pin: string; firstSeen: number }> = Object.create(null);

  constructor(configDir: string) {
    this.path = join(configDir, 'known-servers.json');
    if (existsSync(this.path)) {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as {
        servers?: Record<string, { pin: string; firstSeen: number }>;
      };
      for (const [address, entry] of Object.entries(parsed.servers ?? {})) {
        if (typeof entry?.pin === 'string') this.#servers[address] = entry;
      }
    }
  }

  get(address: string): string | undefined {
    return this.#servers[address.toLowerCase()]?.pin;
  }

  remember(address: string, pin: string, now = Date.now()): void {
    this.#servers[address.toLowerCase()] = { pin, firstSeen: now };
    writePrivateFileAtomic(
      this.path,
      `${JSON.stringify({ format: 'securechat-known-servers', version: 1, servers: this.#servers }, null, 2)}\n`,
    );
  }
}
