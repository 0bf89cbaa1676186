/**
 * JSON-RPC plumbing shared by every client: one way to build a provider, and the chain-id check that runs before
 * anything is signed.
 */
import {
  BrowserProvider,
  Eip1193Provider,
  JsonRpcApiProvider,
  JsonRpcApiProviderOptions,
  JsonRpcProvider
} from 'ethers';
import { makeError } from '../core/errors.js';

/**
 * Provider options for every endpoint. `cacheTimeout: -1` disables ethers' request cache: against anvil's
 * automining, `tx.wait()` otherwise can hang forever on a cached null receipt (FIELD-NOTES). `batchMaxCount: 1`
 * keeps requests unbatched, which some public endpoints reject anyway.
 */
export const RPC_OPTIONS: JsonRpcApiProviderOptions = {
  cacheTimeout: -1,
  batchMaxCount: 1,
  pollingInterval: 250
};

/**
 * A JSON-RPC provider for `rpcUrl` with the project's options. The network is the configured one, never detected:
 * ethers' detection retries forever (logging) when the endpoint is down; instead assertChainId asks the endpoint
 * and fails with a message.
 */
export function jsonRpcProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, chainId, { ...RPC_OPTIONS, staticNetwork: true });
}

/** An ethers provider over an injected EIP-1193 wallet (window.ethereum), with the project's options. */
export function browserProvider(injected: Eip1193Provider): BrowserProvider {
  return new BrowserProvider(injected, undefined, RPC_OPTIONS);
}

/** The chain id the endpoint reports, or CHAIN_UNREACHABLE naming the URL when it does not answer. */
export async function endpointChainId(provider: JsonRpcApiProvider, label: string): Promise<number> {
  try {
    return Number(BigInt(await provider.send('eth_chainId', [])));
  } catch (e) {
    throw makeError(
      'CHAIN_UNREACHABLE',
      `Cannot reach the chain at ${label}: ${(e as Error).message}. Start it (\`ain chain\`) or fix the RPC URL.`,
      { url: label }
    );
  }
}

/**
 * Refuses to go on when the endpoint serves another chain than the configuration names: a transaction signed for
 * the wrong chain could spend real funds or be replayed. Throws CHAIN_ID_MISMATCH.
 */
export async function assertChainId(
  provider: JsonRpcApiProvider,
  expected: number,
  label: string
): Promise<void> {
  const actual = await endpointChainId(provider, label);
  if (actual !== expected) {
    throw makeError(
      'CHAIN_ID_MISMATCH',
      `The endpoint ${label} serves chain ${actual}, but the configuration expects chain ${expected}. ` +
        'Switch the wallet or RPC URL to the configured chain, or fix chainId in the configuration.',
      { expected, actual }
    );
  }
}
