/**
 * Node only: what `ain dev` adds around JupyterLab so that the product works on the embedded default — local
 * provider agents (`ain provider start` child processes on loopback, development keys, their own data folders,
 * registered on the development chain) and the extension's settings pointing at the development deployment (a
 * JupyterLab `overrides.json` in a settings folder used only by `ain dev`).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { makeError } from '../core/errors.js';
import { IDeployment, isDevChainId } from '../chain/config.js';
import { devPrivateKey } from '../chain/dev-chain.js';
import { PACKAGE_ROOT } from './paths.js';

/** One local provider to start. */
export interface IDevProviderSpec {
  /** Development account of the provider's key (1, 2, ...; 0 deploys the contracts). */
  account: number;
  port: number;
  /** Price per hour in whole tokens. */
  price: string;
  /** Shown in the picker. */
  name: string;
  /** A deliberate misbehaviour (`ain provider --fault`), for verification demos and tests on the dev chain. */
  fault?: string;
}

/** A running local provider. */
export interface IDevProvider {
  spec: IDevProviderSpec;
  url: string;
  child: ChildProcess;
}

/** The two providers of `ain dev`: different prices so that the picker has something to compare. */
export function defaultDevProviders(firstPort: number): IDevProviderSpec[] {
  return [
    { account: 1, port: firstPort, price: '1', name: 'dev-provider-1' },
    { account: 2, port: firstPort + 1, price: '2', name: 'dev-provider-2' }
  ];
}

/** The faults `ain dev --fault-provider` accepts (those of `ain provider --fault`). */
export const DEV_FAULTS = ['tamper-outputs', 'skip-execution', 'equivocate', 'withhold-anchor'];

/**
 * Cheating providers for `ain dev --fault-provider <mode>`: one per mode, after the honest ones (ports from
 * `firstPort`, development accounts 4, 5, ...: 1 and 2 are the honest providers, 3 the JupyterLab client).
 */
export function faultDevProviders(modes: string[], firstPort: number): IDevProviderSpec[] {
  return modes.map((fault, i) => ({
    account: 4 + i,
    port: firstPort + i,
    price: '1',
    name: `cheat-${fault}`,
    fault
  }));
}

/**
 * Starts `specs` as `ain provider start` children and resolves once each listens; rejects (after stopping the
 * ones that did start) with the output of the one that failed.
 */
export async function startDevProviders(options: {
  specs: IDevProviderSpec[];
  deploymentFile: string;
  dataDir: string;
  labOrigins: string[];
  timeoutMs?: number;
}): Promise<IDevProvider[]> {
  const started = await Promise.allSettled(options.specs.map(spec => Private.start(spec, options)));
  const ok = started.flatMap(s => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find(s => s.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) {
    await stopDevProviders(ok);
    throw failed.reason;
  }
  return ok;
}

/** SIGTERM to each provider (it stops its kernels and closes its store), SIGKILL after 10 s. */
export async function stopDevProviders(providers: IDevProvider[]): Promise<void> {
  await Promise.all(
    providers.map(
      p =>
        new Promise<void>(resolve => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) {
            return resolve();
          }
          const kill = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
          p.child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          p.child.kill('SIGTERM');
        })
    )
  );
}

/**
 * Writes `<dir>/overrides.json` with the extension's settings for the development deployment, including the
 * development key of account `clientAccount`: refused for any chain but a development one, so a real chain's
 * settings can never carry a key.
 */
export function writeDevLabSettings(dir: string, deployment: IDeployment, clientAccount = 3): string {
  if (!isDevChainId(deployment.chainId)) {
    throw makeError(
      'CHAIN_WALLET_REFUSED',
      `ain dev writes a development key into JupyterLab's settings only for development chains, not chain ${deployment.chainId}.`
    );
  }
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'overrides.json');
  const settings = {
    'jupyterlab-ain:settings': {
      rpcUrl: deployment.rpcUrl,
      chainId: deployment.chainId,
      contracts: deployment.contracts,
      deploymentBlock: deployment.deploymentBlock,
      walletMode: 'development-key',
      developmentKey: devPrivateKey(clientAccount)
    }
  };
  writeFileSync(file, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  return file;
}

namespace Private {
  export function start(
    spec: IDevProviderSpec,
    options: { deploymentFile: string; dataDir: string; labOrigins: string[]; timeoutMs?: number }
  ): Promise<IDevProvider> {
    const args = [
      join(PACKAGE_ROOT, 'bin', 'ain.js'),
      'provider',
      'start',
      `--deployment=${options.deploymentFile}`,
      `--dev-account=${spec.account}`,
      '--host=127.0.0.1',
      `--port=${spec.port}`,
      `--data-dir=${join(options.dataDir, `provider-${spec.account}`)}`,
      `--price=${spec.price}`,
      `--capabilities=${JSON.stringify({ name: spec.name, gpu: false })}`,
      // Small checkpoints so that a few cells in the browser reach "anchored" within seconds.
      '--checkpoint-receipts=3',
      '--checkpoint-seconds=10',
      ...(spec.fault ? [`--fault=${spec.fault}`] : []),
      ...options.labOrigins.map(o => `--allow-origin=${o}`)
    ];
    // The agents build environments with uv and start jupyter: the README set-up's .venv/bin comes first.
    const venvBin = join(PACKAGE_ROOT, '.venv', 'bin');
    const env = {
      ...process.env,
      PATH: existsSync(venvBin) ? `${venvBin}${delimiter}${process.env.PATH ?? ''}` : process.env.PATH
    };
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const label = `provider ${spec.account}`;
    let output = '';
    const relay = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        console.log(`[${label}] ${line}`);
      }
    };
    child.stdout!.on('data', relay);
    child.stderr!.on('data', relay);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGTERM');
        reject(
          makeError(
            'AGENT_CONFIG_INVALID',
            `${label} did not start within ${(options.timeoutMs ?? 60_000) / 1000} s; its output above says why.`
          )
        );
      }, options.timeoutMs ?? 60_000);
      const onData = () => {
        if (/^listening\s+/m.test(output)) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve({ spec, url: `http://127.0.0.1:${spec.port}`, child });
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', code => {
        clearTimeout(timer);
        reject(
          makeError(
            'AGENT_CONFIG_INVALID',
            `${label} exited (${code}) while starting; is port ${spec.port} free? Its output above says why.`
          )
        );
      });
    });
  }
}
