import { type BundleFrame, ErrorCode, ProtocolError } from '../../protocol/index.js';
import { systemTimers, type Timer, type Timers } from '../clock.js';

/** Correlates `bundle` requests with the server's answers (or errors) by id, with a timeout. */
export class BundleRequests {
  #send: (frame: object) => boolean;
  #pending = new Map<
    string,
    {
      resolve: (bundle: BundleFrame) => void;
      reject: (error: Error) => void;
      timer: Timer;
    }
  >();
  #next = 0;
  #timeoutMs: number;
  #timers: Timers;

  constructor(send: (frame: object) => boolean, timers: Timers = systemTimers, timeoutMs = 10_000) {
    this.#send = send;
    this.#timers = timers;
    this.#timeoutMs = timeoutMs;
  }

  request(user: string): Promise<BundleFrame> {
    const id = `bundle-${++this.#next}`;
    return new Promise((resolve, reject) => {
      if (!this.#send({ type: 'bundle', user, id })) {
        reject(new ProtocolError(ErrorCode.PEER_OFFLINE, 'not connected'));
        return;
      }
      const timer = this.#timers.after(this.#timeoutMs, () => {
        this.#pending.delete(id);
        reject(new ProtocolError(ErrorCode.PEER_OFFLINE, `no answer for ${user}'s keys`));
      });
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  /** A `bundle` frame arrived; returns true when it answered one of our requests. */
  resolve(bundle: BundleFrame): boolean {
    const pending = bundle.id === undefined ? undefined : this.#pending.get(bundle.id);
    if (!pending) return false;
    this.#pending.delete(bundle.id!);
    pending.timer.cancel();
    pending.resolve(bundle);
    return true;
  }

  /** An `error` frame with a `ref`; returns true when it answered one of our requests. */
  reject(ref: string, code: string | undefined, text: string): boolean {
    const pending = this.#pending.get(ref);
    if (!pending) return false;
    this.#pending.delete(ref);
    pending.timer.cancel();
    pending.reject(new ProtocolError((code as ErrorCode) ?? ErrorCode.INTERNAL, text));
    return true;
  }

  /** The connection dropped: every open request fails. */
  failAll(reason: string): void {
    for (const [id, pending] of this.#pending) {
      pending.timer.cancel();
      pending.reject(new ProtocolError(ErrorCode.PEER_OFFLINE, reason));
      this.#pending.delete(id);
    }
  }
}
