/**
 * The chain layer (browser and Node): configuration, sessions, wallet adapters and typed clients of the contracts.
 * Node-only helpers (keystores, the embedded anvil chain, deployment) live in *-node.ts files and are imported by
 * path, never from here, so that the JupyterLab bundle stays free of Node built-ins.
 */
export * from './abi.js';
export * from './attestation.js';
export * from './config.js';
export * from './errors.js';
export * from './provider-registry.js';
export * from './rpc.js';
export * from './run-registry.js';
export * from './session.js';
export * from './token.js';
export * from './wallet.js';
export * from './verify-chain.js';
