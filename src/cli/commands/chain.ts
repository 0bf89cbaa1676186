/**
 * `ain chain`: the embedded development chain. Starts anvil on loopback with its state in a file, deploys the
 * contracts and TestAIN on first start, funds the development accounts, writes the deployment file, and runs until
 * Ctrl-C (anvil then writes its state, so the next start resumes where this one stopped).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatUnits, Wallet } from 'ethers';
import { devPrivateKey, startDevChain } from '../../chain/dev-chain.js';
import { ICommand } from '../main.js';
import { devDataDir } from '../paths.js';

const USAGE = `Usage: ain chain [--port N] [--host ADDR] [--data-dir DIR] [--reset] [--accounts N]

Starts the development chain (anvil, chain id 31337) and deploys the contracts on first start.
  --port N        JSON-RPC port (default 8545; 0 picks a free one)
  --host ADDR     listen address (default 127.0.0.1: the development keys are public, keep it local)
  --data-dir DIR  where the chain state and deployment.json live (default: <dev data>/chain)
  --reset         forget the previous state and deploy afresh
  --accounts N    development accounts to fund and list (default 10)`;

/** The folder `ain chain` and `ain dev` keep the chain in. */
export function chainDataDir(): string {
  return join(devDataDir(), 'chain');
}

export const command: ICommand = {
  summary: 'start the development chain (anvil), deploy the contracts, write the deployment file',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '8545' },
        host: { type: 'string', default: '127.0.0.1' },
        'data-dir': { type: 'string' },
        reset: { type: 'boolean', default: false },
        accounts: { type: 'string', default: '10' }
      }
    });
    const dataDir = values['data-dir'] ?? chainDataDir();
    if (values.reset) {
      rmSync(join(dataDir, 'anvil-state.json'), { force: true });
      rmSync(join(dataDir, 'deployment.json'), { force: true });
    }
    const accounts = Number(values.accounts);
    const chain = await startDevChain({
      dataDir,
      port: Number(values.port),
      host: values.host,
      fundAccounts: accounts
    });
    const d = chain.deployment;
    console.log(`chain        ${chain.rpcUrl} (chain id ${d.chainId}, anvil pid ${chain.anvil.pid})`);
    console.log(
      `contracts    ${chain.deployed ? 'deployed now' : 'resumed from the state file'} at block ${d.deploymentBlock}`
    );
    console.log(`  token            ${d.contracts.token}`);
    console.log(`  providerRegistry ${d.contracts.providerRegistry}`);
    console.log(`  runRegistry      ${d.contracts.runRegistry}`);
    console.log(`deployment   ${chain.deploymentFile}`);
    if (d.parameters) {
      const p = d.parameters;
      console.log(
        `parameters   min stake ${formatUnits(p.minStake, 18)} tAIN, slash ${formatUnits(p.slashAmount, 18)} tAIN, ` +
          `challenge window ${p.challengeWindow} s, unbonding ${p.unbondingDelay} s`
      );
    }
    console.log('development accounts (public anvil keys: never use them on a real chain):');
    for (let i = 0; i < accounts; i++) {
      const key = devPrivateKey(i);
      console.log(`  ${i}  ${new Wallet(key).address}  ${key}`);
    }
    console.log('Press Ctrl-C to stop (the state is saved).');
    await new Promise<void>(resolve => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await chain.stop();
    console.log('chain stopped; state saved.');
    return 0;
  }
};
