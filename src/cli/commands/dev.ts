/**
 * `ain dev`: the whole product on the embedded default, on loopback: the development chain (anvil, contracts
 * deployed on first start, state kept across restarts), then JupyterLab with the extension and the example
 * notebooks (copied into a workspace so that running them never edits the repository's copies), two local
 * provider agents registered on the chain, and the extension's settings pointing at that deployment (a settings
 * folder of its own, so a user's JupyterLab settings never get the development key). Ctrl+C stops everything;
 * the agents close their stores and the chain saves its state.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevChain } from '../../chain/dev-chain.js';
import { ICommand } from '../main.js';
import {
  DEV_FAULTS,
  IDevProvider,
  defaultDevProviders,
  faultDevProviders,
  startDevProviders,
  stopDevProviders,
  writeDevLabSettings
} from '../dev-providers.js';
import { PACKAGE_ROOT, devDataDir, jupyterExecutable } from '../paths.js';
import { chainDataDir } from './chain.js';

const USAGE = `Usage: ain dev [--port 8888] [--chain-port 8545] [--provider-port 8601] [--providers 2] [--fault-provider MODE ...] [--no-browser] [--reset-examples] [-- <jupyter lab arguments>]

Starts the development chain and JupyterLab with the jupyterlab-ain extension on 127.0.0.1, on the examples.
  --port N            JupyterLab's port (default 8888)
  --chain-port N      the development chain's JSON-RPC port (default 8545)
  --provider-port N   the first local provider's port (default 8601; the second uses N+1)
  --providers N       how many local providers to start (0-2, default 2)
  --fault-provider M  also start a cheating provider "cheat-M" (M: ${DEV_FAULTS.join(', ')}), on the ports
                      after the honest ones (8603, ...); repeat for several. For trying verification; the
                      development chain only
  --no-browser        do not open a browser
  --reset-examples    copy the example notebooks again, replacing the workspace copies
Environment: AIN_DEV_DIR (data folder, default .ain/dev), AIN_JUPYTER (jupyter executable).`;

export const command: ICommand = {
  summary: 'start the product on the embedded default (JupyterLab with the extension, examples)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '8888' },
        'chain-port': { type: 'string', default: '8545' },
        'provider-port': { type: 'string', default: '8601' },
        providers: { type: 'string', default: '2' },
        'fault-provider': { type: 'string', multiple: true, default: [] },
        'no-browser': { type: 'boolean', default: false },
        'reset-examples': { type: 'boolean', default: false }
      },
      allowPositionals: true
    });
    const port = Number(values.port);
    const chainPort = Number(values['chain-port']);
    const providerPort = Number(values['provider-port']);
    const providerCount = Number(values.providers);
    if (![0, 1, 2].includes(providerCount)) {
      console.error('ain dev: --providers must be 0, 1 or 2.');
      return 2;
    }
    const faults = values['fault-provider'] ?? [];
    const unknown = faults.find(f => !DEV_FAULTS.includes(f));
    if (unknown !== undefined || new Set(faults).size !== faults.length) {
      console.error(
        `ain dev: --fault-provider takes each of ${DEV_FAULTS.join(', ')} at most once, not "${unknown ?? faults.join(', ')}".`
      );
      return 2;
    }
    for (const [name, value] of [
      ['--port', port],
      ['--chain-port', chainPort],
      ['--provider-port', providerPort]
    ] as const) {
      if (!Number.isInteger(value) || value < 1 || value > 65535) {
        console.error(`ain dev: ${name} must be a TCP port number (1-65535).`);
        return 2;
      }
    }
    const workspace = join(devDataDir(), 'notebooks');
    if (values['reset-examples'] || !existsSync(workspace)) {
      mkdirSync(workspace, { recursive: true });
      cpSync(join(PACKAGE_ROOT, 'examples'), workspace, { recursive: true });
      console.log(`ain dev: example notebooks copied to ${workspace}`);
    }
    const chain = await startDevChain({ dataDir: chainDataDir(), port: chainPort });
    console.log(
      `ain dev: chain ${chain.rpcUrl} (chain id ${chain.deployment.chainId}), deployment ${chain.deploymentFile}`
    );
    const labSettings = join(devDataDir(), 'lab-settings');
    writeDevLabSettings(labSettings, chain.deployment);
    let providers: IDevProvider[];
    try {
      providers = await startDevProviders({
        specs: [
          ...defaultDevProviders(providerPort).slice(0, providerCount),
          ...faultDevProviders(faults, providerPort + 2)
        ],
        deploymentFile: chain.deploymentFile,
        dataDir: devDataDir(),
        labOrigins: [`http://127.0.0.1:${port}`, `http://localhost:${port}`]
      });
    } catch (e) {
      await chain.stop();
      throw e;
    }
    for (const p of providers) {
      console.log(
        `ain dev: provider ${p.spec.name} at ${p.url} (${p.spec.price} tAIN/h)${p.spec.fault ? `, cheating on purpose: ${p.spec.fault}` : ''}`
      );
    }
    const args = [
      'lab',
      // The development deployment and key live in a settings folder of ain dev's own (overrides.json).
      `--LabApp.app_settings_dir=${labSettings}`,
      '--ip=127.0.0.1',
      `--port=${port}`,
      '--ServerApp.port_retries=0',
      `--ServerApp.root_dir=${workspace}`,
      ...(values['no-browser'] ? ['--no-browser'] : []),
      // jupyter refuses to run as root without it; development machines and containers often are root.
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
      ...positionals
    ];
    console.log(`ain dev: starting JupyterLab on http://127.0.0.1:${port}/lab (Ctrl+C stops everything)`);
    const lab = spawn(jupyterExecutable(), args, { stdio: 'inherit' });
    const stop = () => lab.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const code = await new Promise<number>(done => {
      lab.once('error', e => {
        console.error(
          `ain dev: cannot start JupyterLab (${e.message}). Run the README's set-up command, or set AIN_JUPYTER to a jupyter executable.`
        );
        done(2);
      });
      lab.once('exit', exitCode => done(exitCode ?? 0));
    });
    await stopDevProviders(providers);
    await chain.stop();
    return code;
  }
};
