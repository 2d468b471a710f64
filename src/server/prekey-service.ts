import {
  type BundleRequestFrame,
  ErrorCode,
  MAX_STORED_PREKEYS,
  PREKEY_LOW_WATERMARK,
  type PrekeysUploadFrame,
} from '../protocol/index.js';
import { errorLine } from './frames.js';
import type { ServerStore } from './store/index.js';

/** What the service needs to know about online users. */
export interface PrekeyOwner {
  readonly name: string;
  readonly pub: string;
  readonly identityKey: string | undefined;
  readonly keySignature: string | undefined;
  send(line: string, kind: string): boolean;
}

/**
 * One-time prekeys (X3DH §2.3, §3.2): owners upload batches; anyone asks for a user's
 * bundle, online or not, and the server hands out each one-time prekey at most once
 * (deleted in the same statement that reads it). When few are left, the owner is told to
 * upload more.
 */
export class PrekeyService<O extends PrekeyOwner> {
  #store: ServerStore;
  #online: (name: string) => O | undefined;

  constructor(store: ServerStore, online: (name: string) => O | undefined) {
    this.#store = store;
    this.#online = online;
  }

  /** Stores an upload from `owner` (a v2 session) and answers with the stored count. */
  upload(owner: O, frame: PrekeysUploadFrame): string {
    if (owner.identityKey === undefined) {
      return errorLine(ErrorCode.NEEDS_IDENTITY, 'prekeys need a v2 session with an identity key');
    }
    const stored = this.#store.addPrekeys(
      owner.name,
      frame.keys,
      MAX_STORED_PREKEYS,
      frame.replace === true,
    );
    return `{"type":"prekeys","stored":${stored}}\n`;
  }

  /** The answer to a bundle request (a bundle, or an error line). */
  bundle(request: BundleRequestFrame): string {
    const binding = this.#store.getBinding(request.user);
    const online = this.#online(request.user);
    const pub = online?.identityKey === binding?.identityKey && online ? online.pub : binding?.pub;
    const sig =
      online?.identityKey === binding?.identityKey && online
        ? online.keySignature
        : binding?.pubsig;
    if (!binding || !pub || !sig) {
      return errorLine(
        ErrorCode.NO_BUNDLE,
        `${request.user} has no registered identity (a legacy client, or unknown here)`,
        request.id,
      );
    }
    const opk = this.#store.takePrekey(request.user);
    const bundle: Record<string, unknown> = {
      type: 'bundle',
      user: binding.name,
      ...(request.id === undefined ? {} : { id: request.id }),
      pub,
      idk: binding.identityKey,
      sig,
      ...(opk ? { opk } : {}),
      online: online !== undefined,
    };
    if (opk && online) {
      const left = this.#store.countPrekeys(request.user);
      if (left < PREKEY_LOW_WATERMARK)
        online.send(`{"type":"prekeys","stored":${left}}\n`, 'prekeys');
    }
    return `${JSON.stringify(bundle)}\n`;
  }

  /** Stored count for `owner` (sent after hello so the client knows whether to upload). */
  countLine(owner: O): string {
    return `{"type":"prekeys","stored":${this.#store.countPrekeys(owner.name)}}\n`;
  }
}
