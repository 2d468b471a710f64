import {
  acceptSession,
  decodeHeader,
  initiateSession,
  kdfChainKey,
  type RandomSource,
  type RatchetAlg,
  ratchetDecrypt,
  ratchetEncrypt,
  type SessionState,
  toBase64,
} from '../../../src/protocol/index.js';
import { bundleOf, party, seededRandom } from './fixtures.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface TranscriptMessage {
  from: string;
  text: string;
  header: string;
  nonce: string;
  cipher: string;
  /** With `detail`: the sending chain key the message key came from (for cross-checks). */
  chainKey?: string;
}

/**
 * A fixed conversation from fixed keys and fixed "randomness": X3DH with a one-time prekey,
 * two messages from the initiator, a reply (DH ratchet step), and one more each way, under
 * `alg`. Both sides decrypt everything as it goes (or this throws).
 */
export function transcript(seed: string, alg: RatchetAlg, detail = false) {
  const random: RandomSource = seededRandom(seed);
  const alice = party(random, 1);
  const bob = party(random, 1);
  let a = initiateSession(alice.identity, bundleOf(bob), random);
  let b: SessionState | undefined;
  const messages: TranscriptMessage[] = [];
  const record = (from: string, text: string, state: SessionState) => {
    const chainKey = detail ? toBase64(state.sendChain!) : undefined;
    const out = ratchetEncrypt(state, encoder.encode(text), { alg, random });
    messages.push({
      from,
      text,
      header: toBase64(out.header),
      nonce: toBase64(out.nonce),
      cipher: toBase64(out.ciphertext),
      ...(chainKey ? { chainKey } : {}),
    });
    return out;
  };
  const open = (state: SessionState, out: ReturnType<typeof ratchetEncrypt>, text: string) => {
    const got = ratchetDecrypt(state, out.header, out.nonce, out.ciphertext, { alg, random });
    if (decoder.decode(got.plaintext) !== text) throw new Error(`transcript: ${text} garbled`);
    return got.state;
  };
  const fromAlice = (text: string) => {
    const out = record('alice', text, a);
    a = out.state;
    if (!b) {
      const init = decodeHeader(out.header).init!;
      b = acceptSession(
        bob.identity,
        bob.signedPrekey,
        init,
        bob.oneTime.get(init.oneTimePrekeyId!)!.secretKey,
      );
    }
    b = open(b, out, text);
  };
  const fromBob = (text: string) => {
    const out = record('bob', text, b!);
    b = out.state;
    a = open(a, out, text);
  };
  fromAlice('hello bob');
  fromAlice('are you there?');
  fromBob('hi alice ✓');
  fromAlice('new chain');
  fromBob('and another');
  return {
    alice: {
      identityPublic: toBase64(alice.identity.publicKey),
      signedPrekeyPublic: toBase64(alice.signedPrekey.publicKey),
    },
    bob: {
      identityPublic: toBase64(bob.identity.publicKey),
      signedPrekeyPublic: toBase64(bob.signedPrekey.publicKey),
      oneTimePrekeyPublic: toBase64(bob.oneTime.get(1)!.publicKey),
    },
    ...(detail ? { ad: toBase64(a.ad) } : {}),
    rootKeyAfter: { alice: toBase64(a.rootKey), bob: toBase64(b!.rootKey) },
    messages,
  };
}

/** The message key a chain key gives (KDF_CK), for cross-checks. */
export function messageKeyOf(chainKey: Uint8Array): Uint8Array {
  return kdfChainKey(chainKey).messageKey;
}
