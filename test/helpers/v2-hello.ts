import type { TLSSocket } from 'node:tls';
import {
  generateIdentityKeyPair,
  generateX25519KeyPair,
  HELLO_EXPORTER_BYTES,
  HELLO_EXPORTER_LABEL,
  type IdentityKeyPair,
  signHelloProof,
  signPrekey,
  toBase64,
  type X25519KeyPair,
} from '../../src/protocol/index.js';

export interface TestIdentity {
  identity: IdentityKeyPair;
  x25519: X25519KeyPair;
}

export function newIdentity(): TestIdentity {
  return { identity: generateIdentityKeyPair(), x25519: generateX25519KeyPair() };
}

export function exporterOf(socket: TLSSocket): Uint8Array {
  return socket.exportKeyingMaterial(HELLO_EXPORTER_BYTES, HELLO_EXPORTER_LABEL, Buffer.alloc(0));
}

/** A v2 hello for `user`, proven on `socket`. */
export function v2Hello(
  socket: TLSSocket,
  user: string,
  who: TestIdentity,
  caps: string[] = ['presence', 'ack'],
): Record<string, unknown> {
  return {
    type: 'hello',
    v: 2,
    caps,
    user,
    pub: toBase64(who.x25519.publicKey),
    idk: toBase64(who.identity.publicKey),
    pubsig: toBase64(signPrekey(who.identity.secretKey, who.x25519.publicKey)),
    proof: toBase64(signHelloProof(who.identity.secretKey, exporterOf(socket), user)),
  };
}
