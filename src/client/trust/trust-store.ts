import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBase64, identityFingerprint, nameKey } from '../../protocol/index.js';
import { writePrivateFileAtomic } from '../state/config-dir.js';
import { raisedFloor, readFloor, SecurityFeature, type TrustFloor } from './trust-floor.js';

/** What we remember about a name on one server. */
export interface KnownPeer {
  name: string;
  /** Base64 Ed25519 identity key; absent while only an invite's fingerprint is known. */
  identityKey?: string;
  firstSeen: number;
  verified: boolean;
  verifiedAt?: number;
  /** The most this name was seen offering (or, after `/trust`, what the user accepted). */
  floor?: TrustFloor;
  /** Identity fingerprint promised by an invite or `--peer`, checked on sight. */
  expected?: string;
}

/** How a peer's presented identity key relates to what we remember. */
export type KeyTrust = 'new' | 'known' | 'verified' | 'changed';

interface TrustFile {
  format: 'securechat-known-peers';
  version: 2;
  /** Server certificate pin → peer name key → record. Names are per server. */
  servers: Record<string, Record<string, KnownPeer>>;
  /** Server certificate pin → security capabilities its welcome offered at best. */
  serverFloors: Record<string, string[]>;
}

const table = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/** The fingerprint users compare (`/fp`, invites) of a Base64 identity key. */
export function fingerprintOfKey(identityKey: string): string | undefined {
  try {
    return identityFingerprint(fromBase64(identityKey, 'idk', 32));
  } catch {
    return undefined;
  }
}

/**
 * The known-peers file of one local user: `<config>/known-peers/<user>.json`, scoped by the
 * server's certificate pin (the same name on two servers can be two people). Like SSH's
 * known_hosts, the first identity key seen for a name is remembered and a different one is
 * `changed`; in addition each name has a floor (identity, ratchet) and each server one
 * (its security capabilities) that the server cannot lower. Version 1 files (before
 * floors) are upgraded on load; the original is kept beside as `<user>.json.v1`.
 */
export class TrustStore {
  readonly path: string;
  #data: TrustFile = {
    format: 'securechat-known-peers',
    version: 2,
    servers: table(),
    serverFloors: table(),
  };
  #batching = 0;
  #dirty = false;
  #now: () => number;

  /** `now`: when a key is first seen or verified (tests move a clock). */
  constructor(configDir: string, localUser: string, options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.path = join(configDir, 'known-peers', `${nameKey(localUser)}.json`);
    if (!existsSync(this.path)) return;
    const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as {
      format?: unknown;
      version?: unknown;
      servers?: Record<string, Record<string, unknown> | null> | null;
      serverFloors?: Record<string, unknown>;
    };
    if (
      parsed?.format !== 'securechat-known-peers' ||
      (parsed.version !== 1 && parsed.version !== 2) ||
      typeof parsed.servers !== 'object' ||
      parsed.servers === null
    ) {
      throw new Error(`${this.path} is not a securechat known-peers file`);
    }
    for (const [server, peers] of Object.entries(parsed.servers)) {
      const records = table<KnownPeer>();
      for (const [key, peer] of Object.entries(peers ?? {})) {
        const record = readPeer(peer, parsed.version === 1);
        if (record) records[key] = record;
      }
      this.#data.servers[server] = records;
    }
    for (const [server, caps] of Object.entries(parsed.serverFloors ?? {})) {
      if (Array.isArray(caps)) this.#data.serverFloors[server] = caps.filter(isString);
    }
    if (parsed.version === 1) {
      copyFileSync(this.path, `${this.path}.v1`);
      this.#save();
    }
  }

  get(server: string, name: string): KnownPeer | undefined {
    return this.#data.servers[server]?.[nameKey(name)];
  }

  /** Compares a presented identity key with what we remember (nothing is written). */
  assess(server: string, name: string, identityKey: string): KeyTrust {
    const known = this.get(server, name);
    if (known?.expected !== undefined) {
      if (fingerprintOfKey(identityKey) !== known.expected) return 'changed';
      return known.identityKey === identityKey && known.verified ? 'verified' : 'new';
    }
    if (known?.identityKey === undefined) return 'new';
    if (known.identityKey !== identityKey) return 'changed';
    return known.verified ? 'verified' : 'known';
  }

  /**
   * A valid identity was seen offering `features` at version `v`: remembers a first-seen
   * key (verified when it matches an invite), raises the floor of a known one. Returns the
   * key's standing afterwards; a `changed` key writes nothing.
   */
  observe(
    server: string,
    name: string,
    identityKey: string,
    v: number,
    features: readonly SecurityFeature[],
    now = this.#now(),
  ): KeyTrust {
    const trust = this.assess(server, name, identityKey);
    if (trust === 'changed') return trust;
    const known = this.get(server, name);
    if (trust === 'new') {
      const invited = known?.expected !== undefined;
      this.#put(server, {
        name,
        identityKey,
        firstSeen: now,
        verified: invited,
        ...(invited ? { verifiedAt: now } : {}),
        floor: raisedFloor(known?.floor, v, features) ?? known?.floor ?? { v, features: [] },
      });
      return invited ? 'verified' : 'known';
    }
    const floor = raisedFloor(known!.floor, v, features);
    if (floor) this.#put(server, { ...known!, floor });
    return trust;
  }

  /** TOFU for an identity that authenticated a v2 (ratchet) message or bundle. */
  rememberIfNew(server: string, name: string, identityKey: string, now = this.#now()): KeyTrust {
    return this.observe(
      server,
      name,
      identityKey,
      2,
      [SecurityFeature.identity, SecurityFeature.ratchet],
      now,
    );
  }

  /**
   * `/trust`: the user accepts `identityKey` (another key clears verification; undefined
   * keeps the remembered one) and `floor` as the new floor, explicitly lower if need be.
   */
  accept(
    server: string,
    name: string,
    identityKey: string | undefined,
    floor: TrustFloor,
    now = this.#now(),
  ): void {
    const known = this.get(server, name);
    const key = identityKey ?? known?.identityKey;
    const same = key !== undefined && key === known?.identityKey;
    this.#put(server, {
      name,
      ...(key === undefined ? {} : { identityKey: key }),
      firstSeen: same ? known!.firstSeen : now,
      verified: same ? known!.verified : false,
      ...(same && known!.verifiedAt !== undefined ? { verifiedAt: known!.verifiedAt } : {}),
      floor,
    });
  }

  /** Accepts a (changed) key for `name` as a v2 identity: replaces the remembered one. */
  trust(server: string, name: string, identityKey: string, now = this.#now()): void {
    const floor = this.get(server, name)?.floor ?? { v: 2, features: [SecurityFeature.identity] };
    this.accept(server, name, identityKey, floor, now);
  }

  /** Marks the remembered key as verified by safety number. */
  markVerified(server: string, name: string, identityKey: string, now = this.#now()): void {
    const known = this.get(server, name);
    const firstSeen = known?.identityKey === identityKey ? known.firstSeen : now;
    const floor = known?.floor ?? { v: 2, features: [SecurityFeature.identity] };
    this.#put(server, { name, identityKey, firstSeen, verified: true, verifiedAt: now, floor });
  }

  /**
   * An invite or `--peer` promises `name`'s identity fingerprint: a remembered key with
   * that fingerprint becomes verified; otherwise the promise is kept and decides on sight.
   */
  expect(server: string, name: string, fingerprint: string, now = this.#now()): void {
    const known = this.get(server, name);
    if (known?.identityKey && fingerprintOfKey(known.identityKey) === fingerprint) {
      const { expected: _e, ...rest } = known;
      this.#put(server, { ...rest, verified: true, verifiedAt: known.verifiedAt ?? now });
      return;
    }
    this.#put(server, {
      ...(known ?? { name, firstSeen: now, verified: false }),
      name,
      expected: fingerprint,
    });
  }

  /** Security capabilities the server at `server` offered at best. */
  serverFloor(server: string): readonly string[] {
    return this.#data.serverFloors[server] ?? [];
  }

  /** Records what a welcome offered; returns the floor capabilities it lacks. */
  observeServer(server: string, caps: readonly string[], security: readonly string[]): string[] {
    const floor = this.serverFloor(server);
    const lacking = floor.filter((cap) => !caps.includes(cap));
    const raised = security.filter((cap) => caps.includes(cap) && !floor.includes(cap));
    if (raised.length > 0) {
      this.#data.serverFloors[server] = [...floor, ...raised];
      this.#changed();
    }
    return lacking;
  }

  /**
   * `/trust --server`: the user accepts the server without the ratchet; every name seen with
   * it on this server gets the lower floor too. Returns how many names were lowered.
   */
  acceptServerWithoutRatchet(server: string): number {
    this.#data.serverFloors[server] = this.serverFloor(server).filter((c) => c !== 'ratchet');
    let lowered = 0;
    for (const peer of Object.values(this.#data.servers[server] ?? {})) {
      if (peer.floor?.features.includes(SecurityFeature.ratchet)) {
        // Signed prekeys need the ratchet: they go with it.
        peer.floor = {
          ...peer.floor,
          features: peer.floor.features.filter(
            (f) =>
              f !== SecurityFeature.ratchet &&
              f !== SecurityFeature.spk &&
              f !== SecurityFeature.pq,
          ),
        };
        lowered++;
      }
    }
    this.#changed();
    return lowered;
  }

  /**
   * An explicitly accepted certificate rotation: the names and floors remembered under the
   * old pin are valid under the new one (kept under the old one too). Returns how many.
   */
  carryOver(fromPin: string, toPin: string): number {
    const from = this.#data.servers[fromPin] ?? {};
    const to = this.#data.servers[toPin] ?? table<KnownPeer>();
    let carried = 0;
    for (const [key, peer] of Object.entries(from)) {
      if (to[key]) continue;
      to[key] = structuredClone(peer);
      carried++;
    }
    this.#data.servers[toPin] = to;
    const floor = new Set([...this.serverFloor(toPin), ...this.serverFloor(fromPin)]);
    this.#data.serverFloors[toPin] = [...floor];
    this.#changed();
    return carried;
  }

  /** Runs `fn` and writes the file at most once (a directory snapshot sees many names). */
  batch<T>(fn: () => T): T {
    this.#batching++;
    try {
      return fn();
    } finally {
      this.#batching--;
      if (this.#batching === 0 && this.#dirty) this.#save();
    }
  }

  #put(server: string, peer: KnownPeer): void {
    this.#data.servers[server] ??= table();
    this.#data.servers[server]![nameKey(peer.name)] = peer;
    this.#changed();
  }

  #changed(): void {
    if (this.#batching > 0) this.#dirty = true;
    else this.#save();
  }

  #save(): void {
    this.#dirty = false;
    writePrivateFileAtomic(this.path, `${JSON.stringify(this.#data, null, 2)}\n`);
  }
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/**
 * Reads one stored record into a fresh object (never merging parsed objects). A version 1
 * record (an identity seen before floors existed) gets the floor it proves: v2, identity.
 */
function readPeer(value: unknown, fromVersion1: boolean): KnownPeer | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  if (typeof raw.name !== 'string') return undefined;
  const identityKey = isString(raw.identityKey) ? raw.identityKey : undefined;
  const expected = isString(raw.expected) ? raw.expected : undefined;
  if (identityKey === undefined && expected === undefined) return undefined;
  const floor = fromVersion1
    ? { v: 2, features: [SecurityFeature.identity] }
    : readFloor(raw.floor);
  return {
    name: raw.name,
    ...(identityKey === undefined ? {} : { identityKey }),
    firstSeen: Number.isSafeInteger(raw.firstSeen) ? (raw.firstSeen as number) : 0,
    verified: raw.verified === true,
    ...(Number.isSafeInteger(raw.verifiedAt) ? { verifiedAt: raw.verifiedAt as number } : {}),
    ...(floor ? { floor } : {}),
    ...(expected === undefined ? {} : { expected }),
  };
}
