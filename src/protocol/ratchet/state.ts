import { fromBase64, toBase64 } from '../base64.js';
import { ErrorCode, ProtocolError } from '../errors.js';
import {
  MAX_PREVIOUS_RATCHETS,
  MAX_STORED_SKIPPED_KEYS,
  MLKEM1024_CIPHERTEXT_BYTES,
} from '../limits.js';
import type { X3dhInit } from './header.js';

export interface SkippedKey {
  /** Base64 of the sender's ratchet public key of that chain. */
  dh: string;
  n: number;
  messageKey: Uint8Array;
  /** When it was stored (ms, the caller's clock): skipped keys expire by age too. */
  at: number;
}

/** One pairwise Double Ratchet session (§3.2 state variables), plus X3DH bookkeeping. */
export interface SessionState {
  version: 1;
  /** Associated data: "securechat/v2" ‖ IK_initiator ‖ IK_responder (X3DH §3.3). */
  ad: Uint8Array;
  /** The peer's Ed25519 identity key this session was agreed with. */
  peerIdentity: Uint8Array;
  rootKey: Uint8Array;
  sendRatchet: { secretKey: Uint8Array; publicKey: Uint8Array };
  recvRatchet?: Uint8Array;
  sendChain?: Uint8Array;
  recvChain?: Uint8Array;
  ns: number;
  nr: number;
  pn: number;
  skipped: SkippedKey[];
  previousRatchets: string[];
  /** Initiator only: X3DH fields sent with every message until the first reply arrives. */
  pendingInit?: X3dhInit;
  /** Ephemeral key of the X3DH run that created this session (to recognize repeated inits). */
  initEphemeral: Uint8Array;
  /** Set up with PQXDH (a KEM secret in SK): shown as `[e2ee:pq]`. Absent in older state. */
  pq?: true;
}

/** A deep copy: ratchet steps work on a copy and commit only on success. */
export function cloneState(state: SessionState): SessionState {
  return {
    ...state,
    ad: state.ad.slice(),
    peerIdentity: state.peerIdentity.slice(),
    rootKey: state.rootKey.slice(),
    sendRatchet: {
      secretKey: state.sendRatchet.secretKey.slice(),
      publicKey: state.sendRatchet.publicKey.slice(),
    },
    ...(state.recvRatchet ? { recvRatchet: state.recvRatchet.slice() } : {}),
    ...(state.sendChain ? { sendChain: state.sendChain.slice() } : {}),
    ...(state.recvChain ? { recvChain: state.recvChain.slice() } : {}),
    skipped: state.skipped.map((k) => ({ ...k, messageKey: k.messageKey.slice() })),
    previousRatchets: [...state.previousRatchets],
    ...(state.pendingInit ? { pendingInit: { ...state.pendingInit } } : {}),
    initEphemeral: state.initEphemeral.slice(),
  };
}

interface EncodedState {
  version: 1;
  ad: string;
  peerIdentity: string;
  rootKey: string;
  sendRatchet: { secretKey: string; publicKey: string };
  recvRatchet?: string;
  sendChain?: string;
  recvChain?: string;
  ns: number;
  nr: number;
  pn: number;
  /** [dh, n, key, stored at]; entries written before keys had an age have three elements. */
  skipped: Array<[string, number, string, number?]>;
  previousRatchets: string[];
  pendingInit?: {
    identityKey: string;
    ephemeralKey: string;
    signedPrekey: string;
    oneTimePrekeyId?: number;
    /** [KEM prekey id, Base64 ciphertext] of a PQXDH init. */
    kem?: [number, string];
  };
  initEphemeral: string;
  pq?: true;
}

/** Serializes a session for storage (the caller encrypts it at rest). */
export function encodeSessionState(state: SessionState): string {
  const b = toBase64;
  const encoded: EncodedState = {
    version: 1,
    ad: b(state.ad),
    peerIdentity: b(state.peerIdentity),
    rootKey: b(state.rootKey),
    sendRatchet: {
      secretKey: b(state.sendRatchet.secretKey),
      publicKey: b(state.sendRatchet.publicKey),
    },
    ...(state.recvRatchet ? { recvRatchet: b(state.recvRatchet) } : {}),
    ...(state.sendChain ? { sendChain: b(state.sendChain) } : {}),
    ...(state.recvChain ? { recvChain: b(state.recvChain) } : {}),
    ns: state.ns,
    nr: state.nr,
    pn: state.pn,
    skipped: state.skipped.map((k) => [k.dh, k.n, b(k.messageKey), k.at]),
    previousRatchets: state.previousRatchets,
    ...(state.pendingInit
      ? {
          pendingInit: {
            identityKey: b(state.pendingInit.identityKey),
            ephemeralKey: b(state.pendingInit.ephemeralKey),
            signedPrekey: b(state.pendingInit.signedPrekey),
            ...(state.pendingInit.oneTimePrekeyId !== undefined
              ? { oneTimePrekeyId: state.pendingInit.oneTimePrekeyId }
              : {}),
            ...(state.pendingInit.kem
              ? {
                  kem: [state.pendingInit.kem.id, b(state.pendingInit.kem.cipherText)] as [
                    number,
                    string,
                  ],
                }
              : {}),
          },
        }
      : {}),
    initEphemeral: b(state.initEphemeral),
    ...(state.pq ? { pq: true as const } : {}),
  };
  return JSON.stringify(encoded);
}

function bad(message: string): never {
  throw new ProtocolError(ErrorCode.BAD_FIELD, `session state: ${message}`);
}

const isCounter = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 0xffffffff;

function key(value: unknown, label: string, length = 32): Uint8Array {
  if (typeof value !== 'string') bad(`${label} missing`);
  return fromBase64(value, label, length);
}

/**
 * Strict inverse of {@link encodeSessionState}. Skipped keys stored without an age (by
 * older versions) get `skippedAt`, so they expire that long after the upgrade.
 * @throws ProtocolError `E_BAD_FIELD`.
 */
export function decodeSessionState(text: string, skippedAt = 0): SessionState {
  let raw: EncodedState;
  try {
    raw = JSON.parse(text) as EncodedState;
  } catch {
    bad('not JSON');
  }
  if (typeof raw !== 'object' || raw === null || raw.version !== 1) bad('unknown version');
  if (!isCounter(raw.ns) || !isCounter(raw.nr) || !isCounter(raw.pn)) bad('counters out of range');
  if (!Array.isArray(raw.skipped) || raw.skipped.length > MAX_STORED_SKIPPED_KEYS)
    bad('skipped keys');
  if (!Array.isArray(raw.previousRatchets) || raw.previousRatchets.length > MAX_PREVIOUS_RATCHETS)
    bad('previous ratchets');
  if (typeof raw.ad !== 'string' || typeof raw.sendRatchet !== 'object' || raw.sendRatchet === null)
    bad('fields missing');
  const state: SessionState = {
    version: 1,
    ad: fromBase64(raw.ad, 'ad'),
    peerIdentity: key(raw.peerIdentity, 'peerIdentity'),
    rootKey: key(raw.rootKey, 'rootKey'),
    sendRatchet: {
      secretKey: key(raw.sendRatchet.secretKey, 'sendRatchet'),
      publicKey: key(raw.sendRatchet.publicKey, 'sendRatchet'),
    },
    ns: raw.ns,
    nr: raw.nr,
    pn: raw.pn,
    skipped: raw.skipped.map((entry) => {
      if (
        !Array.isArray(entry) ||
        (entry.length !== 3 && entry.length !== 4) ||
        !isCounter(entry[1]) ||
        (entry.length === 4 && !Number.isSafeInteger(entry[3]))
      )
        bad('skipped key entry');
      key(entry[0], 'skipped dh');
      return {
        dh: entry[0],
        n: entry[1],
        messageKey: key(entry[2], 'skipped key'),
        at: entry[3] ?? skippedAt,
      };
    }),
    previousRatchets: raw.previousRatchets.map((dh) => {
      key(dh, 'previous ratchet');
      return dh;
    }),
    initEphemeral: key(raw.initEphemeral, 'initEphemeral'),
  };
  if (state.ad.length !== 13 + 64) bad('associated data length');
  if (raw.recvRatchet !== undefined) state.recvRatchet = key(raw.recvRatchet, 'recvRatchet');
  if (raw.sendChain !== undefined) state.sendChain = key(raw.sendChain, 'sendChain');
  if (raw.recvChain !== undefined) state.recvChain = key(raw.recvChain, 'recvChain');
  if (raw.pendingInit !== undefined) {
    const init = raw.pendingInit;
    if (typeof init !== 'object' || init === null) bad('pendingInit');
    if (init.oneTimePrekeyId !== undefined && !isCounter(init.oneTimePrekeyId))
      bad('pendingInit prekey id');
    state.pendingInit = {
      identityKey: key(init.identityKey, 'pendingInit identityKey'),
      ephemeralKey: key(init.ephemeralKey, 'pendingInit ephemeralKey'),
      signedPrekey: key(init.signedPrekey, 'pendingInit signedPrekey'),
      ...(init.oneTimePrekeyId !== undefined ? { oneTimePrekeyId: init.oneTimePrekeyId } : {}),
    };
    if (init.kem !== undefined) {
      if (!Array.isArray(init.kem) || init.kem.length !== 2 || !isCounter(init.kem[0]))
        bad('pendingInit kem');
      state.pendingInit.kem = {
        id: init.kem[0],
        cipherText: key(init.kem[1], 'pendingInit kem', MLKEM1024_CIPHERTEXT_BYTES),
      };
    }
  }
  if (raw.pq !== undefined) {
    if (raw.pq !== true) bad('pq');
    state.pq = true;
  }
  return state;
}
