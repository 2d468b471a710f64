import type { TLSSocket } from 'node:tls';
import type { Clock } from './clock.js';
import type { AdmitRefusal } from './limits/connection-limiter.js';
import { LogThrottle } from './log-throttle.js';
import type { Logger } from './logger.js';
import type { ServerStats } from './stats.js';
import type { RejectReason, Remote } from './tls-listener.js';

/**
 * The logging policy of the listener's events: what is counted, what is logged, and how
 * often (repeated rejections from one address are throttled, so a scanner cannot flood the
 * log), and the one-time warning when clients arrive from a shared address.
 */
export class ConnectionEvents {
  #logger: Logger;
  #stats: ServerStats;
  #clock: Clock;
  #throttle = new LogThrottle(60_000);
  #sharedAddresses: ReadonlySet<string>;
  #sharedSeen = false;
  #lastProtocol = '';
  #lastSuite = '';
  #lastLabel = '';

  constructor(
    logger: Logger,
    stats: ServerStats,
    clock: Clock,
    sharedAddresses: ReadonlySet<string>,
  ) {
    this.#logger = logger;
    this.#stats = stats;
    this.#clock = clock;
    this.#sharedAddresses = sharedAddresses;
  }

  /** A TLS session was established; true when `remote` is a shared address. */
  secured(socket: TLSSocket, remote: Remote): boolean {
    this.#stats.connectionsTotal++;
    const protocol = socket.getProtocol() ?? '?';
    const cipher = socket.getCipher();
    const suite = cipher?.standardName ?? cipher?.name ?? '?';
    // Nearly every connection negotiates what the last one did: its label is reused.
    if (protocol !== this.#lastProtocol || suite !== this.#lastSuite) {
      this.#lastProtocol = protocol;
      this.#lastSuite = suite;
      this.#lastLabel = `${protocol}|${suite}`;
    }
    this.#stats.tlsAccepted.tally(this.#lastLabel);
    const shared = remote.via === undefined && this.#sharedAddresses.has(remote.address);
    if (shared && !this.#sharedSeen) {
      this.#sharedSeen = true;
      this.#logger.warn(
        { event: 'address.shared', address: remote.address },
        'clients arrive from a shared address (a forwarder without the PROXY protocol): identities carry the per-address limits',
      );
    }
    return shared;
  }

  rejected(reason: RejectReason, remote: Remote, detail?: string): void {
    this.#stats.tlsRejected.inc(reason);
    if (reason.startsWith('plaintext') || reason.startsWith('proxy'))
      this.#stats.securityEvents.inc('plaintext_probe');
    const suppressed = this.#throttle.allow(`${reason}|${remote.address}`, this.#clock.now());
    if (suppressed === undefined) return;
    this.#logger.info(
      {
        event:
          reason.startsWith('plaintext') || reason === 'proxy_untrusted'
            ? 'plaintext.probe'
            : 'tls.failure',
        reason,
        remote: remote.address,
        detail,
        ...(suppressed > 0 ? { suppressed } : {}),
      },
      'connection dropped before a TLS session was established',
    );
  }

  refused(reason: AdmitRefusal, remote: Remote): void {
    this.#stats.connectionsRefused.inc(reason);
    const suppressed = this.#throttle.allow(
      `refused|${reason}|${remote.address}`,
      this.#clock.now(),
    );
    if (suppressed === undefined) return;
    this.#logger.warn(
      {
        event: 'connection.refused',
        reason,
        remote: remote.address,
        ...(suppressed > 0 ? { suppressed } : {}),
      },
      'connection refused by limits',
    );
  }
}
