/**
 * src/core: the formats every other layer relies on for the same bytes and the same hashes. Runs unchanged in
 * the browser, in a Web Worker and in Node.
 */
export * from './errors.js';
export * from './hash.js';
export * from './canonical-json.js';
export * from './notebook.js';
export * from './outputs-normalize.js';
export * from './outputs-text.js';
export * from './outputs-tolerance.js';
export * from './outputs-compare.js';
export * from './receipt.js';
export * from './merkle.js';
export * from './sampling.js';
export * from './environment.js';
export * from './bundle-manifest.js';
export * from './bundle-writer.js';
export * from './bundle-reader.js';
export * from './kernel-outputs.js';
export * from './verify-objective.js';
export * from './verify-checkpoints.js';
export * from './verify-run.js';
export * from './kernel-executor.js';
export * from './launch-link.js';
