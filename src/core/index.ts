/**
 * The pure core in one import: event model, validation, categories, change tracking, the hash
 * chain, checkpoints and verification. No module here does I/O or reads a clock.
 */
export * from './event.js';
export * from './errors.js';
export * from './json.js';
export * from './canonical.js';
export * from './chain.js';
export * from './columns.js';
export * from './limits.js';
export * from './timestamp.js';
export * from './validate.js';
export * from './safe-keys.js';
export * from './operation.js';
export * from './categories.js';
export * from './changes.js';
export * from './settings.js';
export * from './draft.js';
export * from './checkpoint.js';
export * from './verify.js';
// A namespace: its names (signCheckpoint, …) would clash with the JSON checkpoints above.
export * as tlog from './tlog/index.js';
