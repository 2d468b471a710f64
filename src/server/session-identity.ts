import {
  Capability,
  encodePeerInfo,
  fromBase64,
  type HelloFrame,
  identityFingerprint,
} from '../protocol/index.js';

/**
 * What a session knows about its client once a hello was accepted: name, keys, version,
 * capabilities, and the directory entry built from them (once, at the hello).
 */
export class SessionIdentity {
  #hello: HelloFrame | undefined;
  #peerJson = '';
  #identityFingerprint: string | undefined;

  /** Takes the accepted hello's facts (undefined: forget them again). */
  protected setHello(hello: HelloFrame | undefined): void {
    this.#hello = hello;
    this.#peerJson = hello ? encodePeerInfo(hello) : '';
    this.#identityFingerprint = hello?.idk
      ? identityFingerprint(fromBase64(hello.idk, 'idk', 32))
      : undefined;
  }

  get name(): string {
    return this.#hello?.user ?? '';
  }
  get pub(): string {
    return this.#hello?.pub ?? '';
  }
  /** Protocol version of the accepted hello (0 before hello). */
  get version(): number {
    return this.#hello?.v ?? 0;
  }
  get identityKey(): string | undefined {
    return this.#hello?.idk;
  }
  get keySignature(): string | undefined {
    return this.#hello?.pubsig;
  }
  /** Fingerprint of the proven identity key (v2), as administrators are configured. */
  get identityFingerprint(): string | undefined {
    return this.#identityFingerprint;
  }
  get peerJson(): string {
    return this.#peerJson;
  }
  get wantsUserFrames(): boolean {
    return this.version === 1;
  }
  get wantsPresence(): boolean {
    return this.has(Capability.presence);
  }

  /** The client announced this v2 capability. */
  has(cap: string): boolean {
    return this.version >= 2 && (this.#hello?.caps.includes(cap) ?? false);
  }
}
