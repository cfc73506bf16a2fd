/**
 * @patchbay/core — the entity model of the Power Platform connection model, its invariants
 * (design §2), activation rules, errors and ports. Pure: no I/O, no clock, no randomness.
 */
export * from './errors.js';
export * from './model.js';
export * from './names.js';
export * from './access.js';
export * from './activation.js';
export * from './ports.js';
export * from './execution.js';
export * from './connection-params.js';
