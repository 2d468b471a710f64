// What every mode of bench/loadgen.mjs shares: its arguments, the watchdog, the clients'
// registration, the relay payload and lines, and a bounded worker pool.
import { loadCa, registerIrc, registerSecurechat } from './clients.mjs';

const NONCE = Buffer.alloc(12, 1).toString('base64');
/** Bytes of the payload each relayed message carries (Base64 on the wire: 172 chars). */
export const PAYLOAD_BYTES = 128;

/**
 * The load generator's context from its command line (`mode --name value …`): arguments,
 * server port, CA, protocol, deadline (a watchdog ends the process after --timeout
 * seconds) and the helpers below bound to them.
 */
export function loadgenContext(argv) {
  const [mode, ...rest] = argv;
  const args = {};
  for (let i = 0; i < rest.length; i += 2) args[rest[i].replace(/^--/, '')] = rest[i + 1];
  const port = Number(args.port);
  const ca = loadCa(args.ca);
  const proto = args.proto ?? 'sc';
  const timeoutMs = Number(args.timeout ?? 120) * 1000;
  const deadline = Date.now() + timeoutMs;

  setTimeout(() => {
    console.log(JSON.stringify({ error: `load generator timed out after ${timeoutMs / 1000} s` }));
    process.exit(2);
  }, timeoutMs).unref();

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const elapsedMs = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

  /**
   * The 128-byte payload (what E2EE would have sealed; the servers never look inside):
   * send time (hrtime ns), sequence, pair, phase; the rest filler. Base64 on the wire (172 chars).
   */
  function payload(pair, seq, phase) {
    const bytes = Buffer.alloc(PAYLOAD_BYTES, 0x5a);
    bytes.writeBigUInt64BE(process.hrtime.bigint(), 0);
    bytes.writeUInt32BE(seq, 8);
    bytes.writeUInt32BE(pair, 12);
    bytes[16] = phase;
    return bytes.toString('base64');
  }

  function readPayload(b64) {
    const bytes = Buffer.from(b64.slice(0, 24), 'base64'); // the first 18 bytes
    return { sent: bytes.readBigUInt64BE(0), seq: bytes.readUInt32BE(8), phase: bytes[16] };
  }

  /** An error frame (securechat) or an error reply/numeric (IRC) from the server. */
  function isServerError(line) {
    return proto === 'irc' ? /^ERROR |^:\S+ 4\d\d /.test(line) : line.startsWith('{"type":"error"');
  }

  function relayLine(to, body) {
    return proto === 'irc'
      ? `PRIVMSG ${to} :${body}\r\n`
      : `{"type":"relay","to":"${to}","alg":"X25519+AESGCM","nonce":"${NONCE}","cipher":"${body}"}\n`;
  }

  /** The payload of a delivered message, or undefined for any other line. */
  function deliveredBody(line) {
    if (proto === 'irc') {
      const at = line.indexOf(' PRIVMSG ');
      return at === -1 ? undefined : line.slice(line.indexOf(':', at + 9) + 1);
    }
    const at = line.indexOf('"cipher":"');
    return at === -1 ? undefined : line.slice(at + 10, line.indexOf('"', at + 10));
  }

  async function register(name, onLine, options = {}) {
    if (proto === 'irc') return registerIrc({ port, ca, name, onLine });
    return registerSecurechat({
      port,
      ca,
      name,
      onLine,
      v2: proto === 'sc2' || options.v2,
      caps: options.caps ?? [],
      identity: options.identity,
    });
  }

  /** Runs task(0..count-1) with at most `concurrency` at once, until the deadline. */
  async function pool(count, concurrency, task) {
    let next = 0;
    const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count && Date.now() < deadline) await task(next++);
    });
    await Promise.all(workers);
  }

  return {
    mode,
    args,
    port,
    ca,
    proto,
    deadline,
    sleep,
    elapsedMs,
    payload,
    readPayload,
    isServerError,
    relayLine,
    deliveredBody,
    register,
    pool,
  };
}
