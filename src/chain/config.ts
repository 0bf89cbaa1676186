/**
 * The chain configuration record that every component reads (the extension's settings, the agent, the CLI and the
 * tests): where the JSON-RPC endpoint is, which chain it must be, and where the contracts live. The embedded
 * development chain writes one as its deployment file; production fills the same record by hand.
 */
import { getAddress, isAddress } from 'ethers';
import { assert, makeError } from '../core/errors.js';

/** Chain ids on which raw (unencrypted) development keys are accepted: anvil/hardhat (31337) and ganache (1337). */
export const DEV_CHAIN_IDS: readonly number[] = [31337, 1337];

/** Addresses of the deployed contracts. */
export interface IChainAddresses {
  /** The ERC-20 used for stakes and payments (TestAIN on development chains, AIN in production). */
  token: string;
  providerRegistry: string;
  runRegistry: string;
}

/** Everything a component needs to talk to the chain. */
export interface IChainConfig {
  rpcUrl: string;
  chainId: number;
  contracts: IChainAddresses;
  /** The block the contracts were deployed in: event queries start here instead of at genesis. */
  deploymentBlock: number;
}

/** A deployment file: the config record plus how it was made (written by `ain chain`). */
export interface IDeployment extends IChainConfig {
  /** Deployment parameters, for display and for tests. */
  parameters?: {
    minStake: string;
    unbondingDelay: number;
    challengeWindow: number;
    slashAmount: string;
    challengerRewardBps: number;
  };
  /** Development accounts funded with test tokens (addresses only; never keys). */
  fundedAccounts?: string[];
  deployedAt?: string;
}

/** True for the chain ids of local development chains. */
export function isDevChainId(chainId: number | bigint): boolean {
  return DEV_CHAIN_IDS.includes(Number(chainId));
}

/**
 * Checks and normalizes a config record read from settings or a file; throws CHAIN_CONFIG_INVALID naming the
 * field that is wrong. Addresses come back checksummed.
 */
export function parseChainConfig(value: unknown): IChainConfig {
  const bad = (field: string, what: string) =>
    makeError('CHAIN_CONFIG_INVALID', `Chain configuration field "${field}" ${what}.`, { field });
  assert(
    typeof value === 'object' && value !== null,
    'CHAIN_CONFIG_INVALID',
    'The chain configuration must be a JSON object with rpcUrl, chainId, contracts and deploymentBlock.'
  );
  const v = value as Record<string, unknown>;
  if (typeof v.rpcUrl !== 'string' || !/^(https?|wss?):\/\/./.test(v.rpcUrl)) {
    throw bad('rpcUrl', 'must be an http(s) or ws(s) URL, e.g. http://127.0.0.1:8545');
  }
  if (typeof v.chainId !== 'number' || !Number.isSafeInteger(v.chainId) || v.chainId <= 0) {
    throw bad('chainId', 'must be a positive integer (31337 for the embedded anvil chain)');
  }
  if (
    typeof v.deploymentBlock !== 'number' ||
    !Number.isSafeInteger(v.deploymentBlock) ||
    v.deploymentBlock < 0
  ) {
    throw bad('deploymentBlock', 'must be a non-negative integer block number');
  }
  const c = v.contracts as Record<string, unknown> | undefined;
  if (typeof c !== 'object' || c === null) {
    throw bad('contracts', 'must be an object with token, providerRegistry and runRegistry addresses');
  }
  const contracts = {} as IChainAddresses;
  for (const name of ['token', 'providerRegistry', 'runRegistry'] as const) {
    const a = c[name];
    if (typeof a !== 'string' || !isAddress(a)) {
      throw bad(`contracts.${name}`, 'must be a 0x-prefixed 20-byte address');
    }
    contracts[name] = getAddress(a);
  }
  return { rpcUrl: v.rpcUrl, chainId: v.chainId, contracts, deploymentBlock: v.deploymentBlock };
}
