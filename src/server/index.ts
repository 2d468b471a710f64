export * from './certs.js';
export * from './config.js';
export * from './directory.js';
export * from './logger.js';
export * from './presence.js';
export * from './server.js';
export * from './session.js';
export * from './tls-listener.js';
export type * from './transport.js';
