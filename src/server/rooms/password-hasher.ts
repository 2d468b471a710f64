import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * argon2id parameters for room passwords (RFC 9106; OWASP's minimum profile): 19 MiB of
 * memory, 2 passes, 1 lane, 32-byte tag, 16-byte random salt. About 0.4 s in pure JS here,
 * so hashing runs in a worker thread and never blocks the relay.
 */
export const ROOM_PASSWORD_ARGON2 = { m: 19_456, t: 2, p: 1, dkLen: 32 } as const;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.argon2Url).then(({ argon2id }) => {
  parentPort.on('message', ({ id, password, salt, params }) => {
    try {
      parentPort.postMessage({ id, hash: argon2id(password, salt, params) });
    } catch (error) {
      parentPort.postMessage({ id, error: String(error && error.message || error) });
    }
  });
});
`;

type Params = { m: number; t: number; p: number; dkLen: number };

/** PHC string: `$argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>` (unpadded Base64). */
function encode(params: Params, salt: Uint8Array, hash: Uint8Array): string {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64').replace(/=+$/, '');
  return `$argon2id$v=19$m=${params.m},t=${params.t},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

function decode(phc: string): { params: Params; salt: Uint8Array; hash: Uint8Array } | undefined {
  const match =
    /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,64})\$([A-Za-z0-9+/]{16,128})$/.exec(
      phc,
    );
  if (!match) return undefined;
  const hash = Buffer.from(match[5]!, 'base64');
  return {
    params: { m: Number(match[1]), t: Number(match[2]), p: Number(match[3]), dkLen: hash.length },
    salt: Buffer.from(match[4]!, 'base64'),
    hash,
  };
}

/** Hashes and verifies room passwords with argon2id (@noble/hashes) in a worker thread. */
export class PasswordHasher {
  #worker: Worker | undefined;
  #nextId = 0;
  #pending = new Map<
    number,
    { resolve: (hash: Uint8Array) => void; reject: (error: Error) => void }
  >();
  readonly params: Params;

  constructor(params: Params = ROOM_PASSWORD_ARGON2) {
    this.params = params;
  }

  #run(password: string, salt: Uint8Array, params: Params): Promise<Uint8Array> {
    if (!this.#worker) {
      const argon2Path = createRequire(import.meta.url).resolve('@noble/hashes/argon2.js');
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { argon2Url: pathToFileURL(argon2Path).href },
      });
      worker.unref();
      worker.on('message', (message: { id: number; hash?: Uint8Array; error?: string }) => {
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        if (message.hash) pending.resolve(message.hash);
        else pending.reject(new Error(message.error ?? 'argon2id failed'));
      });
      worker.on('error', (error) => {
        for (const pending of this.#pending.values()) pending.reject(error);
        this.#pending.clear();
        this.#worker = undefined;
      });
      this.#worker = worker;
    }
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker!.postMessage({ id, password: password.normalize('NFKC'), salt, params });
    });
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    return encode(this.params, salt, await this.#run(password, salt, this.params));
  }

  /** Constant-time comparison of the recomputed tag; malformed stored hashes never match. */
  async verify(password: string, phc: string): Promise<boolean> {
    const stored = decode(phc);
    if (!stored) return false;
    const hash = await this.#run(password, stored.salt, stored.params);
    return hash.length === stored.hash.length && timingSafeEqual(hash, stored.hash);
  }

  close(): Promise<number> | undefined {
    const worker = this.#worker;
    this.#worker = undefined;
    return worker?.terminate();
  }
}
