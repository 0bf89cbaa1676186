/**
 * The chain side of `ain verify` and `ain challenge`: which RPC endpoint to read a notebook's run from, the full
 * chain configuration of that run (its RunRegistry knows the token and the provider registry), and the verifier's
 * key — an encrypted keystore on any chain, a development key only on development chains. Keys are never printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Contract, Wallet } from 'ethers';
import { makeError } from '../core/errors.js';
import type { IAinRunRecord } from '../core/evidence.js';
import { RUN_REGISTRY_ABI } from '../chain/abi.js';
import { IChainConfig, isDevChainId } from '../chain/config.js';
import { devPrivateKey } from '../chain/dev-chain.js';
import { loadKeystore } from '../chain/keystore-node.js';
import { endpointChainId, jsonRpcProvider } from '../chain/rpc.js';
import { ChainSession } from '../chain/session.js';
import { unlockedWallet } from '../chain/wallet.js';
import { devDataDir } from './paths.js';

/** The key options every command that signs shares. */
export interface IKeyOptions {
  'key-file'?: string;
  'password-file'?: string;
  'dev-account'?: string;
}

export const KEY_OPTIONS = {
  'key-file': { type: 'string' },
  'password-file': { type: 'string' },
  'dev-account': { type: 'string' }
} as const;

export const KEY_USAGE = `Key (only for --attest, --challenge and --reproduce <provider>; never printed):
  --key-file FILE       encrypted JSON keystore; its password in $AIN_PASSWORD or --password-file FILE
  --dev-account N       development account N, or a raw key in $AIN_KEY (development chains 31337/1337 only)`;

/**
 * The RPC URL for a run: `--rpc`, else on a development chain the embedded chain's (its deployment file, or
 * 127.0.0.1:8545). Other chains have no default: a verifier must say which endpoint it trusts.
 */
export function rpcFor(run: IAinRunRecord, explicit: string | undefined): string {
  if (explicit) {
    return explicit;
  }
  if (isDevChainId(run.chainId)) {
    const file = join(devDataDir(), 'chain', 'deployment.json');
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { rpcUrl: string }).rpcUrl;
      } catch {
        // a damaged file: fall back to the default port
      }
    }
    return 'http://127.0.0.1:8545';
  }
  throw makeError(
    'CHAIN_CONFIG_INVALID',
    `The run is on chain ${run.chainId}: give the JSON-RPC endpoint of that chain with --rpc URL.`,
    { chainId: run.chainId }
  );
}

/** The help line of `--deployment-block`, shared by `ain verify` and `ain challenge`. */
export const DEPLOYMENT_BLOCK_USAGE = `  --deployment-block N  first block of the run's events (default: the run's opening block when the chain
                        confirms it, else 0)`;

/**
 * Where the scans of a run's events start. Without `--deployment-block` (`explicit` undefined): at the run's
 * recorded opening block when the chain confirms it (runEventsFrom), else at block 0. With it: at that block, an
 * override, so the run record the chain side reads with leaves its opening block out.
 */
export function eventScan(
  run: IAinRunRecord,
  explicit: number | undefined
): { run: IAinRunRecord; deploymentBlock: number } {
  return explicit === undefined
    ? { run, deploymentBlock: 0 }
    : { run: { ...run, openedBlock: undefined }, deploymentBlock: explicit };
}

/**
 * The chain configuration of a run: the endpoint must serve the run's chain id (CHAIN_ID_MISMATCH otherwise,
 * CHAIN_UNREACHABLE when it does not answer); the token and provider registry come from the RunRegistry itself.
 */
export async function runChainConfig(
  run: IAinRunRecord,
  rpcUrl: string,
  deploymentBlock: number
): Promise<IChainConfig> {
  const provider = jsonRpcProvider(rpcUrl, run.chainId);
  try {
    const served = await endpointChainId(provider, rpcUrl);
    if (served !== run.chainId) {
      throw makeError(
        'CHAIN_ID_MISMATCH',
        `The notebook's run is on chain ${run.chainId}, but ${rpcUrl} serves chain ${served}. ` +
          `Give the endpoint of chain ${run.chainId} with --rpc.`,
        { expected: run.chainId, actual: served }
      );
    }
    const registry = new Contract(run.runRegistry, RUN_REGISTRY_ABI, provider);
    if ((await provider.getCode(run.runRegistry)) === '0x') {
      throw makeError(
        'CHAIN_DEPLOYMENT_MISSING',
        `There is no RunRegistry at ${run.runRegistry} on chain ${run.chainId} (${rpcUrl}): the chain was reset, ` +
          'or this is another chain with the same id.',
        { runRegistry: run.runRegistry }
      );
    }
    const [token, providers] = (await Promise.all([registry.token(), registry.providers()])) as [
      string,
      string
    ];
    return {
      rpcUrl,
      chainId: run.chainId,
      deploymentBlock,
      contracts: { token, providerRegistry: providers, runRegistry: run.runRegistry }
    };
  } finally {
    provider.destroy();
  }
}

/** The verifier's wallet from the options, or null when none was given. */
export async function verifierWallet(values: IKeyOptions, chainId: number): Promise<Wallet | null> {
  if (values['key-file']) {
    const password = values['password-file']
      ? readFileSync(values['password-file'], 'utf8').replace(/\r?\n$/, '')
      : process.env.AIN_PASSWORD;
    if (password === undefined) {
      throw makeError(
        'CHAIN_WALLET_REFUSED',
        'The keystore needs its password: set $AIN_PASSWORD or pass --password-file FILE.'
      );
    }
    return loadKeystore(values['key-file'], password);
  }
  const raw =
    values['dev-account'] !== undefined ? devPrivateKey(Number(values['dev-account'])) : process.env.AIN_KEY;
  if (raw === undefined) {
    return null;
  }
  if (!isDevChainId(chainId)) {
    throw makeError(
      'CHAIN_WALLET_REFUSED',
      `Raw development keys are accepted only on development chains (31337, 1337), not on chain ${chainId}. ` +
        'Use an encrypted keystore: --key-file FILE.'
    );
  }
  return new Wallet(raw);
}

/** The verifier's wallet; CHAIN_WALLET_REFUSED names the options when none was given. */
export async function requireWallet(values: IKeyOptions, chainId: number, why: string): Promise<Wallet> {
  const wallet = await verifierWallet(values, chainId);
  if (!wallet) {
    throw makeError(
      'CHAIN_WALLET_REFUSED',
      `${why} needs a key: pass --key-file FILE (any chain), or on a development chain --dev-account N or $AIN_KEY.`
    );
  }
  return wallet;
}

/** A session on `config` that signs with the verifier's key. */
export async function signingSession(
  config: IChainConfig,
  values: IKeyOptions,
  why: string
): Promise<ChainSession> {
  return ChainSession.connect(config, unlockedWallet(await requireWallet(values, config.chainId, why)));
}
