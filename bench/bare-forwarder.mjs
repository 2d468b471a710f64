// The "bare forwarder": the least a Node TLS relay of our line protocol can do — learn each
// client's name from its hello, then write each relay line to the named recipient. No
// validation, no limits: it marks Node's ceiling for the comparison.
// Usage: node bench/bare-forwarder.mjs <port> <cert.pem> <key.pem>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';

const [port, certPath, keyPath] = process.argv.slice(2);
const users = new Map();
const server = createServer(
  { cert: readFileSync(certPath), key: readFileSync(keyPath), minVersion: 'TLSv1.3' },
  (socket) => {
    let name;
    let buffer = '';
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      buffer += chunk;
      let start = 0;
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        const line = buffer.slice(start, newline);
        start = newline + 1;
        if (name === undefined) {
          name = JSON.parse(line).user;
          users.set(name, socket);
          socket.write(`{"type":"welcome","users":{}}\n`);
        } else {
          const to = /"to":"([^"]+)"/.exec(line)?.[1];
          users.get(to)?.write(`${line}\n`);
        }
        newline = buffer.indexOf('\n', start);
      }
      buffer = buffer.slice(start);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (users.get(name) === socket) users.delete(name);
    });
  },
);
server.listen(Number(port), '127.0.0.1', () => console.log(`READY ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
