/**
 * Node only: the embedded development chain behind `ain chain` and `ain dev`. Starts anvil with its state in a
 * file, deploys the contracts and TestAIN on first start (or after the state was lost), funds the development
 * accounts, and writes the deployment file that the agent, the extension settings and the tests read.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Contract, HDNodeWallet, Wallet, parseUnits } from 'ethers';
import { makeError } from '../core/errors.js';
import { TEST_AIN_ABI } from './abi.js';
import { IDeployment, parseChainConfig } from './config.js';
import { IAnvil, startAnvil } from './anvil-node.js';
import { DEV_PARAMETERS, IDeployParameters, deployContracts } from './deploy-node.js';
import { jsonRpcProvider } from './rpc.js';

/** anvil's default mnemonic: its accounts are public knowledge and hold value only on development chains. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

/** The private key of development account `index` (anvil's account list). */
export function devPrivateKey(index: number): string {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
}

/** Options of startDevChain. */
export interface IDevChainOptions {
  /** Folder for `anvil-state.json` and `deployment.json` (created). */
  dataDir: string;
  /** 8545 by default; 0 picks a free port. */
  port?: number;
  host?: string;
  /** Development accounts 0 .. fundAccounts-1 get `fundAmount` test tokens on first deployment (default 10). */
  fundAccounts?: number;
  fundAmount?: bigint;
  parameters?: IDeployParameters;
}

/** A running development chain. */
export interface IDevChain {
  rpcUrl: string;
  deployment: IDeployment;
  /** Path of the deployment file. */
  deploymentFile: string;
  /** Whether the contracts were deployed by this start (false: reused from the state file). */
  deployed: boolean;
  anvil: IAnvil;
  /** Stops anvil; its state is written to the state file first. */
  stop(): Promise<void>;
}

/** Starts (or resumes) the development chain in `options.dataDir`. */
export async function startDevChain(options: IDevChainOptions): Promise<IDevChain> {
  await fs.mkdir(options.dataDir, { recursive: true });
  const stateFile = path.join(options.dataDir, 'anvil-state.json');
  const deploymentFile = path.join(options.dataDir, 'deployment.json');
  const anvil = await startAnvil({ host: options.host, port: options.port ?? 8545, stateFile });
  try {
    const previous = await Private.reusableDeployment(deploymentFile, anvil.rpcUrl);
    let deployment: IDeployment;
    if (previous) {
      // The port may differ from the last start; everything else lives in the state file.
      deployment = { ...previous, rpcUrl: anvil.rpcUrl };
    } else {
      deployment = await Private.deployAndFund(anvil.rpcUrl, options);
    }
    await fs.writeFile(deploymentFile, JSON.stringify(deployment, null, 2) + '\n');
    return {
      rpcUrl: anvil.rpcUrl,
      deployment,
      deploymentFile,
      deployed: !previous,
      anvil,
      stop: () => anvil.stop()
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

/** Reads a deployment file; CHAIN_DEPLOYMENT_MISSING names the file and the command that writes it. */
export async function readDeployment(file: string): Promise<IDeployment> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw makeError(
      'CHAIN_DEPLOYMENT_MISSING',
      `No deployment file at ${file}. Start the development chain with \`ain chain\` (or \`ain dev\`), or write the ` +
        'file for your chain: { rpcUrl, chainId, contracts: { token, providerRegistry, runRegistry }, deploymentBlock }.',
      { file }
    );
  }
  const raw = JSON.parse(text) as IDeployment;
  return { ...raw, ...parseChainConfig(raw) };
}

const Private = {
  /** The previous deployment when its contracts are still on the chain (the state file survived). */
  async reusableDeployment(file: string, rpcUrl: string): Promise<IDeployment | null> {
    if (!existsSync(file)) {
      return null;
    }
    const previous = await readDeployment(file);
    const provider = jsonRpcProvider(rpcUrl, previous.chainId);
    try {
      const codes = await Promise.all(Object.values(previous.contracts).map(a => provider.getCode(a)));
      return codes.every(c => c !== '0x') ? previous : null;
    } finally {
      provider.destroy();
    }
  },

  async deployAndFund(rpcUrl: string, options: IDevChainOptions): Promise<IDeployment> {
    const provider = jsonRpcProvider(rpcUrl, 31337);
    try {
      const deployer = new Wallet(devPrivateKey(0), provider);
      const deployment = await deployContracts(deployer, rpcUrl, options.parameters ?? DEV_PARAMETERS);
      const token = new Contract(deployment.contracts.token, TEST_AIN_ABI, deployer);
      const amount = options.fundAmount ?? parseUnits('10000', 18);
      const funded: string[] = [];
      for (let i = 0; i < (options.fundAccounts ?? 10); i++) {
        const account = new Wallet(devPrivateKey(i)).address;
        await (await token.getFunction('faucet')(account, amount)).wait();
        funded.push(account);
      }
      return { ...deployment, fundedAccounts: funded };
    } finally {
      provider.destroy();
    }
  }
};
