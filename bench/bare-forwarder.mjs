// The "bare forwarder": the least a Node TLS relay of our line protocol can do — learn each
// client's name from its hello, then write each relay line to the named recipient. No
// validation, no limits: it marks Node's ceiling for the comparison.
// Usage: node bench/bare-forwarder.mjs <port> <cert.pem> <key.pem>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import { bareConnection } from './lib/bare-connection.mjs';

const [port, certPath, keyPath] = process.argv.slice(2);
const users = new Map();
const server = createServer(
  { cert: readFileSync(certPath), key: readFileSync(keyPath), minVersion: 'TLSv1.3' },
  bareConnection(users),
);
server.listen(Number(port), '127.0.0.1', () => console.log(`READY ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
