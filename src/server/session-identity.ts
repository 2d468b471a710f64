import {
  Capability,
  encodePeerInfo,
  fromBase64,
  type HelloFrame,
  identityFingerprint,
} from '../protocol/index.js';

/**
 * What a session knows about its client once a hello was accepted: name, keys, version,
 * capabilities, and the directory entry built from them. Only these facts of the hello are
 * kept (its proof and uploads are done with once admitted), and the directory entry and
 * fingerprint are made when first asked for: most held sessions are never listed.
 */
export class SessionIdentity {
  /** The hello's facts (not its proof, prekey or KEM key). */
  #hello: HelloFrame | undefined;
  #peerJson: string | undefined;
  #identityFingerprint: string | undefined;

  /** Takes the accepted hello's facts (undefined: forget them again). */
  protected setHello(hello: HelloFrame | undefined): void {
    // One shape for every session (idk and pubsig undefined for v1), no spreads.
    this.#hello = hello && {
      type: 'hello',
      user: hello.user,
      pub: hello.pub,
      v: hello.v,
      caps: hello.caps,
      idk: hello.idk,
      pubsig: hello.pubsig,
    };
    this.#peerJson = undefined;
    this.#identityFingerprint = undefined;
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
    const idk = this.#hello?.idk;
    if (idk === undefined) return undefined;
    this.#identityFingerprint ??= identityFingerprint(fromBase64(idk, 'idk', 32));
    return this.#identityFingerprint;
  }
  get peerJson(): string {
    const hello = this.#hello;
    if (hello === undefined) return '';
    this.#peerJson ??= encodePeerInfo(hello);
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
