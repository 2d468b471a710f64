export * from './chunk-store.js';
export * from './file-service.js';
export * from './file-stats.js';
