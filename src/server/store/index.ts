export * from './sqlite-store.js';
export type * from './types.js';
