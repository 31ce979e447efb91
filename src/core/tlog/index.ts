/**
 * The verifiable log, pure parts: the RFC 6962 Merkle tree over a workspace's event hashes, its
 * C2SP tiles, signed notes and checkpoints, tlog proofs and the witness protocol's bodies.
 * Stores back the tree with their own node or tile storage through the hash and tile readers.
 */
export * from './merkle.js';
export * from './tiles.js';
export * from './note.js';
export * from './checkpoint.js';
export * from './proof.js';
export * from './witness.js';
export * from './text.js';
