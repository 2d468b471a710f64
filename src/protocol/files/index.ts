export * from './file-binary.js';
export * from './file-crypto.js';
export * from './file-descriptor.js';
export * from './file-frames.js';
export * from './file-limits.js';
export * from './file-names.js';
