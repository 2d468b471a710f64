// The admission floor: our own TLS listener (dist/server/tls-listener.js: the connection caps,
// the first read in JS, the handshake under a timeout, the plaintext answer) with the bare
// forwarder's per-connection work on top (bench/bare-forwarder.mjs: learn the name from the
// hello with one JSON.parse, write a fixed welcome, forward relay lines by `to`). No session,
// no validation, no admission. `admission-ab.mjs --floor` runs it beside ours and bare: what
// ours costs above it is what sessions cost (hello checks, admission, welcome, directory,
// presence, metrics); what it costs above bare is what the listener costs.
// Usage: node bench/admission-floor.mjs <port> <cert.pem> <key.pem>   (after npm run build)
import { readFileSync } from 'node:fs';
import { ConnectionLimiter } from '../dist/server/limits/connection-limiter.js';
import { TlsListener } from '../dist/server/tls-listener.js';
import { bareConnection } from './lib/bare-connection.mjs';

const [port, certPath, keyPath] = process.argv.slice(2);
const users = new Map();
const listener = new TlsListener({
  certPem: readFileSync(certPath, 'utf8'),
  keyPem: readFileSync(keyPath, 'utf8'),
  // As bench/servers.mjs starts ours: the caps lifted, the handshake timeout at 120 s.
  handshakeTimeoutMs: 120_000,
  limiter: new ConnectionLimiter({
    maxConnections: 1_000_000,
    maxPerIp: 1_000_000,
    penaltyMs: 600_000,
    strikes: 5,
  }),
  trustedProxies: new Set(),
  onSecure: bareConnection(users),
  onRejected() {},
  onRefused() {},
});
const address = await listener.listen(Number(port), '127.0.0.1');
console.log(`READY ${address.port}`);
process.on('SIGTERM', () => process.exit(0));
