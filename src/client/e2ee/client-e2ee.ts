import type { BundleFrame, PrekeyCountFrame } from '../../protocol/index.js';
import { systemTimers, type Timer, type Timers } from '../clock.js';
import type { LocalIdentity } from '../identity/keystore.js';
import { StateDb } from '../state/state-db.js';
import { loadClientState } from './client-state.js';
import type { ClientLimits } from './limits.js';
import { PrekeyPublisher } from './prekey-publisher.js';
import { RatchetPeers } from './ratchet-peers.js';

/** How often maintenance runs (signed prekey rotation and deletion, skipped-key expiry). */
export const MAINTENANCE_INTERVAL_MS = 3_600_000;

export interface Notice {
  kind: 'info' | 'warning';
  text: string;
  code?: string;
}

const RESTORED =
  'this client state is older than one this identity already used (restored from a backup, or copied): every session starts anew with the next message, and the signed and one-time prekeys were replaced. Messages sent to you meanwhile may not open.';

/**
 * The end-to-end side of a client with an identity: its locked state database, the ratchet
 * sessions, the prekeys it keeps the server stocked with, and hourly maintenance on the
 * client's own clock.
 */
export class ClientE2ee {
  readonly ratchet: RatchetPeers;
  readonly publisher: PrekeyPublisher;
  readonly db: StateDb;
  readonly notices: Notice[] = [];
  #timers: Timers;
  #timer: Timer | undefined;

  constructor(options: {
    identity: LocalIdentity;
    /** An already opened (and locked) state; else opened here from `configDir`. */
    state?: StateDb;
    configDir?: string;
    now: () => number;
    /** Maintenance runs on these (tests move a clock). */
    timers?: Timers;
    limits?: Partial<ClientLimits>;
    requestBundle: (user: string) => Promise<BundleFrame>;
  }) {
    const { identity, now } = options;
    this.#timers = options.timers ?? systemTimers;
    this.db = options.state ?? StateDb.open(options.configDir!, identity.name, now());
    const state = loadClientState(this.db, identity, {
      now,
      ...(options.limits ? { limits: options.limits } : {}),
    });
    this.ratchet = new RatchetPeers(identity, state, options.requestBundle, now);
    this.publisher = new PrekeyPublisher(this.ratchet);
    if (this.db.staleHolder) {
      this.notices.push({
        kind: 'info',
        text: `took over the state of a client that ended without closing (pid ${this.db.staleHolder.pid})`,
      });
    }
    if (state.migrated)
      this.notices.push({ kind: 'info', text: 'upgraded the session store to the new format' });
    if (state.rolledBack)
      this.notices.push({ kind: 'warning', text: RESTORED, code: 'E_RESTORED' });
  }

  /**
   * A count from the server: uploads what it lacks, and says so when it revealed a restore
   * (`serverSpk`: the server's welcome offered `spk`).
   */
  onCount(
    count: PrekeyCountFrame,
    serverSpk: boolean,
    serverPq: boolean,
    io: {
      send(frame: object): boolean;
      notice(kind: Notice['kind'], text: string, code?: string): void;
    },
  ): void {
    const plan = this.publisher.onCount(count, serverSpk, serverPq);
    if (plan.restored) {
      io.notice(
        'warning',
        `the server hands out a signed prekey of yours newer than this client has: ${RESTORED}`,
        'E_RESTORED',
      );
    }
    for (const frame of plan.frames) io.send(frame);
  }

  /**
   * Runs maintenance now and every {@link MAINTENANCE_INTERVAL_MS}, with `also` (rooms); a
   * rotated signed prekey is uploaded through `upload` (which returns false when it cannot
   * send now: the next count after a welcome uploads it then).
   */
  startMaintenance(upload: (frame: object) => boolean, also: () => void = () => {}): void {
    const run = () => {
      if (this.ratchet.maintain().rotated) upload(this.publisher.signedPrekeyFrame());
      also();
    };
    run();
    this.#timer = this.#timers.every(MAINTENANCE_INTERVAL_MS, run);
  }

  /** Stops maintenance and releases the state (and its lock). */
  close(): void {
    this.#timer?.cancel();
    this.db.close();
  }
}
