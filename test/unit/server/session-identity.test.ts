import { describe, expect, it } from 'vitest';
import {
  encodePeerInfo,
  fromBase64,
  type HelloFrame,
  identityFingerprint,
} from '../../../src/protocol/index.js';
import { SessionIdentity } from '../../../src/server/session-identity.js';

class Probe extends SessionIdentity {
  take(hello: HelloFrame | undefined): void {
    this.setHello(hello);
  }
}

const B64_32 = Buffer.alloc(32, 7).toString('base64');
const B64_64 = Buffer.alloc(64, 9).toString('base64');

function v2(user: string): HelloFrame {
  return {
    type: 'hello',
    user,
    pub: B64_32,
    v: 2,
    caps: ['presence', 'ack'],
    idk: Buffer.alloc(32, user.length).toString('base64'),
    pubsig: B64_64,
    proof: B64_64,
    spk: { id: 1, pub: B64_32, sig: B64_64, created: 1 } as unknown as HelloFrame['spk'],
  };
}

describe('SessionIdentity', () => {
  it('answers from the hello what the eagerly built entry said (made when first asked)', () => {
    const probe = new Probe();
    expect(probe.peerJson).toBe('');
    expect(probe.identityFingerprint).toBeUndefined();
    const hello = v2('alice');
    probe.take(hello);
    expect(probe.name).toBe('alice');
    expect(probe.version).toBe(2);
    expect(probe.identityKey).toBe(hello.idk);
    expect(probe.keySignature).toBe(hello.pubsig);
    expect(probe.has('presence')).toBe(true);
    expect(probe.has('rooms')).toBe(false);
    expect(probe.peerJson).toBe(encodePeerInfo(hello));
    expect(JSON.parse(probe.peerJson)).toEqual({
      pub: B64_32,
      v: 2,
      idk: hello.idk,
      sig: B64_64,
      caps: ['presence', 'ack'],
    });
    expect(probe.identityFingerprint).toBe(identityFingerprint(fromBase64(hello.idk!, 'idk', 32)));
  });

  it('a new hello replaces the entry and fingerprint made for the old one', () => {
    const probe = new Probe();
    probe.take(v2('alice'));
    const first = [probe.peerJson, probe.identityFingerprint];
    const bob = v2('bob');
    probe.take(bob);
    expect(probe.peerJson).toBe(encodePeerInfo(bob));
    expect(probe.identityFingerprint).not.toBe(first[1]);
    probe.take({ type: 'hello', user: 'carol', pub: B64_32, v: 1, caps: [] });
    expect(probe.peerJson).toBe(`{"pub":"${B64_32}","v":1}`);
    expect(probe.identityFingerprint).toBeUndefined();
    probe.take(undefined);
    expect(probe.peerJson).toBe('');
    expect(probe.name).toBe('');
  });
});
