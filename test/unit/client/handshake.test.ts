import { describe, expect, it } from 'vitest';
import type { LocalIdentity } from '../../../src/client/identity/keystore.js';
import { CLIENT_CAPS, helloFrame, serverErrorAction } from '../../../src/client/net/handshake.js';
import {
  ErrorCode,
  fromBase64,
  generateIdentityKeyPair,
  generateX25519KeyPair,
  toBase64,
  verifyHello,
} from '../../../src/protocol/index.js';

function memoryIdentity(): LocalIdentity {
  return {
    name: 'alice',
    identity: generateIdentityKeyPair(),
    x25519: generateX25519KeyPair(),
    createdAt: 0,
    path: '(memory)',
    encrypted: false,
  };
}

describe('serverErrorAction', () => {
  const fresh = { ready: false, welcomedBefore: false, reconnects: true };
  const again = { ready: false, welcomedBefore: true, reconnects: true };
  const live = { ready: true, welcomedBefore: true, reconnects: true };
  it.each([
    ['name taken at the first hello', ErrorCode.NAME_TAKEN, fresh, 'fatal'],
    ['name taken on a reconnect', ErrorCode.NAME_TAKEN, again, 'retry'],
    [
      'name taken on a reconnect, reconnects off',
      ErrorCode.NAME_TAKEN,
      { ...again, reconnects: false },
      'fatal',
    ],
    ['name bound to another identity, even on a reconnect', ErrorCode.NAME_BOUND, again, 'fatal'],
    ['bad proof', ErrorCode.BAD_PROOF, fresh, 'fatal'],
    ['bad name', ErrorCode.BAD_NAME, fresh, 'fatal'],
    ['identity required', ErrorCode.IDENTITY_REQUIRED, fresh, 'fatal'],
    ['replaced by a newer connection', ErrorCode.REPLACED, live, 'fatal'],
    ['name taken while in session (not about our hello)', ErrorCode.NAME_TAKEN, live, 'notice'],
    ['rate limited', ErrorCode.RATE_LIMITED, live, 'notice'],
    ['no code', undefined, fresh, 'notice'],
  ] as const)('%s → %s', (_name, code, state, expected) => {
    expect(serverErrorAction(code, state)).toBe(expected);
  });
});

describe('helloFrame', () => {
  it('is the seed hello without an identity or TLS socket', () => {
    const keys = generateX25519KeyPair();
    expect(helloFrame('alice', keys, undefined, undefined)).toEqual({
      type: 'hello',
      user: 'alice',
      pub: toBase64(keys.publicKey),
    });
  });

  it('is a v2 hello whose signatures verify against the connection exporter', () => {
    const identity = memoryIdentity();
    const exporter = Buffer.alloc(32, 7);
    const frame = helloFrame('alice', identity.x25519, identity, {
      exportKeyingMaterial: () => exporter,
    }) as Record<string, string>;
    expect(frame).toMatchObject({ type: 'hello', user: 'alice', v: 2, caps: CLIENT_CAPS });
    const proofs = {
      identityKey: fromBase64(frame.idk!, 'idk', 32),
      x25519Key: fromBase64(frame.pub!, 'pub', 32),
      keySignature: fromBase64(frame.pubsig!, 'pubsig', 64),
      proof: fromBase64(frame.proof!, 'proof', 64),
    };
    expect(proofs.x25519Key).toEqual(identity.x25519.publicKey);
    expect(verifyHello(proofs, exporter, 'alice')).toBe('ok');
    // Bound to this connection and this name.
    expect(verifyHello(proofs, Buffer.alloc(32, 8), 'alice')).toBe('bad-proof');
    expect(verifyHello(proofs, exporter, 'mallory')).toBe('bad-proof');
  });
});
