/** The EIP-4361 login message moved to the chain layer (src/chain/siwe.ts); re-exported for the lab. */
export * from '../chain/siwe.js';
