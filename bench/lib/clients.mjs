// Minimal protocol clients for the load generator: securechat (v1 or v2 hello) and IRC.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';

const HOST = '127.0.0.1'; // the only network target, ever

/**
 * A TLS connection to 127.0.0.1:`port` that splits incoming data into lines (LF or CRLF)
 * and hands them to `onLine`. The server certificate is checked against `ca`; the host
 * name is not (every server uses the same throwaway certificate).
 */
export function openLineSocket({ port, ca, onLine, onClose }) {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: HOST,
      port,
      ca: ca ? [ca] : undefined,
      rejectUnauthorized: Boolean(ca),
      checkServerIdentity: () => undefined,
      minVersion: 'TLSv1.2',
    });
    let pending = '';
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      pending += chunk;
      let start = 0;
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const end =
          newline > start && pending.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
        onLine(pending.slice(start, end));
        start = newline + 1;
        newline = pending.indexOf('\n', start);
      }
      pending = pending.slice(start);
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
    socket.on('error', () => {});
    socket.on('close', () => onClose?.());
  });
}

export function loadCa(path) {
  return path ? readFileSync(path, 'utf8') : undefined;
}

let protocol;
async function protocolModule() {
  protocol ??= await import(new URL('../../dist/protocol/index.js', import.meta.url).href);
  return protocol;
}

/**
 * Registers on a securechat server: v1 hello (seed style) or v2 hello with an identity proof
 * and the given capabilities. Resolves once the welcome arrived.
 */
export async function registerSecurechat({
  port,
  ca,
  name,
  v2 = false,
  caps = [],
  onLine = () => {},
  identity,
}) {
  let welcomed;
  const ready = new Promise((resolve, reject) => {
    welcomed = { resolve, reject };
  });
  const socket = await openLineSocket({
    port,
    ca,
    onLine: (line) => {
      if (welcomed && line.startsWith('{"type":"welcome"')) {
        welcomed.resolve();
        welcomed = undefined;
        return;
      }
      if (welcomed && line.startsWith('{"type":"error"')) {
        welcomed.reject(new Error(line));
        welcomed = undefined;
        return;
      }
      onLine(line);
    },
  });
  if (!v2) {
    socket.write(
      `{"type":"hello","user":"${name}","pub":"${randomBytes(32).toString('base64')}"}\n`,
    );
  } else {
    const p = await protocolModule();
    const id = identity ?? {
      identity: p.generateIdentityKeyPair(),
      x25519: p.generateX25519KeyPair(),
    };
    const exporter = socket.exportKeyingMaterial(
      p.HELLO_EXPORTER_BYTES,
      p.HELLO_EXPORTER_LABEL,
      Buffer.alloc(0),
    );
    socket.write(
      `${JSON.stringify({
        type: 'hello',
        user: name,
        v: 2,
        caps,
        pub: p.toBase64(id.x25519.publicKey),
        idk: p.toBase64(id.identity.publicKey),
        pubsig: p.toBase64(p.signPrekey(id.identity.secretKey, id.x25519.publicKey)),
        proof: p.toBase64(p.signHelloProof(id.identity.secretKey, exporter, name)),
      })}\n`,
    );
  }
  await ready.catch((error) => {
    socket.destroy();
    throw error;
  });
  return socket;
}

/** "TLSv1.3 TLS_AES_256_GCM_SHA384": what a connection negotiated. */
export function tlsDescription(socket) {
  return `${socket.getProtocol()} ${socket.getCipher()?.standardName ?? '?'}`;
}

/** Pre-generated identities (signing is done per connection, key generation beforehand). */
export async function makeIdentities(count) {
  const p = await protocolModule();
  return Array.from({ length: count }, () => ({
    identity: p.generateIdentityKeyPair(),
    x25519: p.generateX25519KeyPair(),
  }));
}

/** Registers on an IRC server (NICK/USER, waits for 001) and answers PINGs. */
export async function registerIrc({ port, ca, name, onLine = () => {} }) {
  let welcomed;
  const ready = new Promise((resolve, reject) => {
    welcomed = { resolve, reject };
  });
  let socketRef;
  const socket = await openLineSocket({
    port,
    ca,
    onLine: (line) => {
      if (line.startsWith('PING ')) {
        socketRef?.write(`PONG ${line.slice(5)}\r\n`);
        return;
      }
      if (welcomed && / 001 /.test(line)) {
        welcomed.resolve();
        welcomed = undefined;
        return;
      }
      if (welcomed && (/^ERROR /.test(line) || / 43[236] /.test(line))) {
        welcomed.reject(new Error(`${name}: ${line}`));
        welcomed = undefined;
        return;
      }
      onLine(line);
    },
  });
  socketRef = socket;
  socket.write(`NICK ${name}\r\nUSER ${name} 0 * :bench\r\n`);
  await ready.catch((error) => {
    socket.destroy();
    throw error;
  });
  return socket;
}
