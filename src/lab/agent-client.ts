/**
 * The provider agent's client moved to the chain layer (src/chain/agent-client.ts) so that the CLI (`ain verify`)
 * shares it; the lab keeps importing it from here.
 */
export * from '../chain/agent-client.js';
