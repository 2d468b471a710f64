export * from './double-ratchet.js';
export * from './header.js';
export * from './kdf.js';
export * from './state.js';
export * from './x3dh.js';
