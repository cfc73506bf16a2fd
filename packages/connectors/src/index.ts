/** Public entry of @patchbay/connectors. */
export {};
export * from './http/index.js';
