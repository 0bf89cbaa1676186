/**
 * Node only: deploys the contracts from contracts/build (written by scripts/build-contracts.js at build time) and
 * returns the deployment record. Works on any chain; `ain chain` uses it for the embedded anvil.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ContractFactory, Signer, getCreateAddress, parseUnits } from 'ethers';
import { makeError } from '../core/errors.js';
import { IDeployment } from './config.js';

/** Deployment parameters (amounts in base units, times in seconds). */
export interface IDeployParameters {
  minStake: bigint;
  unbondingDelay: number;
  challengeWindow: number;
  slashAmount: bigint;
  challengerRewardBps: number;
  /** An existing ERC-20 (production AIN); when absent, TestAIN is deployed. */
  token?: string;
}

/** Development defaults: 100 tAIN minimum stake, slashed whole; 1-day window; 7-day unbonding; half to challenger. */
export const DEV_PARAMETERS: IDeployParameters = {
  minStake: parseUnits('100', 18),
  unbondingDelay: 7 * 24 * 3600,
  challengeWindow: 24 * 3600,
  slashAmount: parseUnits('100', 18),
  challengerRewardBps: 5000
};

/** A compiled contract as scripts/build-contracts.js writes it. */
export interface IArtifact {
  contractName: string;
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
}

/** contracts/build, two folders up from src/chain and from lib-node/chain alike. */
export const BUILD_DIR = path.join(__dirname, '..', '..', 'contracts', 'build');

/** Reads a compiled contract; CHAIN_DEPLOYMENT_MISSING says to build the contracts when it is absent. */
export function loadArtifact(name: string): IArtifact {
  const file = path.join(BUILD_DIR, `${name}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as IArtifact;
  } catch (e) {
    throw makeError(
      'CHAIN_DEPLOYMENT_MISSING',
      `The compiled contract ${file} is missing (${(e as Error).message}). Run \`npm run build:contracts\`.`,
      { file }
    );
  }
}

/** Deploys one artifact and waits for it; returns its address. */
export async function deployArtifact(signer: Signer, name: string, args: unknown[]): Promise<string> {
  const a = loadArtifact(name);
  const contract = await new ContractFactory(a.abi as never, a.bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract.getAddress();
}

/**
 * Deploys token (unless given), ProviderRegistry and RunRegistry. The registry must know the RunRegistry's
 * address at construction, so that address is predicted from the deployer's nonce: nothing else may send from the
 * deployer account meanwhile.
 */
export async function deployContracts(
  signer: Signer,
  rpcUrl: string,
  params: IDeployParameters = DEV_PARAMETERS
): Promise<IDeployment> {
  const provider = signer.provider!;
  const from = await signer.getAddress();
  const chainId = Number((await provider.getNetwork()).chainId);
  const deploymentBlock = await provider.getBlockNumber();
  const token = params.token ?? (await deployArtifact(signer, 'TestAIN', []));
  const nonce = await provider.getTransactionCount(from, 'pending');
  const predicted = getCreateAddress({ from, nonce: nonce + 1 });
  const providerRegistry = await deployArtifact(signer, 'ProviderRegistry', [
    token,
    params.minStake,
    params.unbondingDelay,
    predicted
  ]);
  const runRegistry = await deployArtifact(signer, 'RunRegistry', [
    providerRegistry,
    params.challengeWindow,
    params.slashAmount,
    params.challengerRewardBps
  ]);
  if (runRegistry !== predicted) {
    throw makeError(
      'CHAIN_DEPLOYMENT_MISSING',
      `RunRegistry landed at ${runRegistry}, not at the predicted ${predicted}: another transaction was sent from ` +
        `${from} during deployment. Deploy again from an idle account.`
    );
  }
  return {
    rpcUrl,
    chainId,
    contracts: { token, providerRegistry, runRegistry },
    deploymentBlock,
    parameters: {
      minStake: params.minStake.toString(),
      unbondingDelay: params.unbondingDelay,
      challengeWindow: params.challengeWindow,
      slashAmount: params.slashAmount.toString(),
      challengerRewardBps: params.challengerRewardBps
    },
    deployedAt: new Date().toISOString()
  };
}
