import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFileAtomic } from '../state/config-dir.js';

interface KnownServer {
  pin: string;
  firstSeen: number;
  /** Pins this address had before, each until the user accepted its successor. */
  previous?: Array<{ pin: string; until: number }>;
}

/**
 * Server certificate pins by `host:port` (`<config>/known-servers.json`): trust on first
 * use, remembered pins from invites, and explicitly accepted rotations (the old pin is kept
 * in `previous`). Version 1 files (no `previous`) load unchanged.
 */
export class KnownServers {
  readonly path: string;
  #servers: Record<string, KnownServer> = Object.create(null);

  constructor(configDir: string) {
    this.path = join(configDir, 'known-servers.json');
    if (!existsSync(this.path)) return;
    const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as {
      servers?: Record<string, unknown>;
    };
    for (const [address, value] of Object.entries(parsed.servers ?? {})) {
      const entry = value as Partial<KnownServer> | null;
      if (typeof entry?.pin !== 'string') continue;
      const previous = Array.isArray(entry.previous)
        ? entry.previous.filter((p) => typeof p?.pin === 'string' && Number.isSafeInteger(p.until))
        : [];
      this.#servers[address.toLowerCase()] = {
        pin: entry.pin,
        firstSeen: Number.isSafeInteger(entry.firstSeen) ? (entry.firstSeen as number) : 0,
        ...(previous.length > 0 ? { previous } : {}),
      };
    }
  }

  get(address: string): string | undefined {
    return this.#servers[address.toLowerCase()]?.pin;
  }

  remember(address: string, pin: string, now = Date.now()): void {
    this.#servers[address.toLowerCase()] = { pin, firstSeen: now };
    this.#save();
  }

  /** An explicitly accepted certificate rotation: `pin` replaces the remembered one. */
  rotate(address: string, pin: string, now = Date.now()): string | undefined {
    const key = address.toLowerCase();
    const old = this.#servers[key];
    this.#servers[key] = {
      pin,
      firstSeen: now,
      previous: old ? [...(old.previous ?? []), { pin: old.pin, until: now }] : [],
    };
    this.#save();
    return old?.pin;
  }

  #save(): void {
    writePrivateFileAtomic(
      this.path,
      `${JSON.stringify({ format: 'securechat-known-servers', version: 2, servers: this.#servers }, null, 2)}\n`,
    );
  }
}
