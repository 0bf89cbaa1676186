/**
 * The fault specs' provider: `ain provider start` as a child process (so it can be SIGKILLed for real) against a
 * development chain reached through a TCP relay that can be cut (the RPC endpoint down), with the local kernel
 * backend. Its environment folder is the kernel tests' ENV_CACHE (a symlink), so a run's uv environment is built
 * once for all specs and nothing is downloaded again. Helpers open a run as its client and reach its kernels with
 * @jupyterlab/services through /runs/{id}/jupyter, as JupyterLab does.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KernelManager } from '@jupyterlab/services';
import { Wallet, parseUnits } from 'ethers';
import type { Hex32 } from '../../src/core/hash';
import { IDevChain, devPrivateKey, startDevChain } from '../../src/chain/dev-chain';
import { RunRegistryClient } from '../../src/chain/run-registry';
import { ChainSession } from '../../src/chain/session';
import { devKeyWallet } from '../../src/chain/wallet';
import { nodeServerSettings } from '../../src/cli/jupyter-settings';
import { random32 } from '../integration/chain-fixture';
import { call, login, makeBundle, relay, waitFor } from '../integration/agent-service-fixture';
import {
  IAgentProcess,
  buildCli,
  startAgentProcess,
  stopAllProcesses
} from '../integration/cli-process-fixture';
import { ENV_CACHE } from '../integration/agent-kernel-fixture';

export const PROVIDER_KEY = devPrivateKey(1);
export const CLIENT_KEY = devPrivateKey(2);
export const PROVIDER = new Wallet(PROVIDER_KEY).address;

export interface IFaultBed {
  dir: string;
  dataDir: string;
  chain: IDevChain;
  rpc: Awaited<ReturnType<typeof relay>>;
  runs: RunRegistryClient;
  /** Starts (or restarts, on the same data folder) the agent; `extra` adds flags. */
  startAgent(extra?: string[]): Promise<IAgentProcess>;
  close(): Promise<void>;
}

/** A development chain, a cuttable relay in front of it, and an agent data folder using ENV_CACHE. */
export async function startFaultBed(prefix: string): Promise<IFaultBed> {
  buildCli();
  const dir = mkdtempSync(path.join(tmpdir(), `ain-${prefix}-`));
  const dataDir = path.join(dir, 'agent');
  mkdirSync(dataDir);
  mkdirSync(ENV_CACHE, { recursive: true });
  symlinkSync(ENV_CACHE, path.join(dataDir, 'environments'));
  const chain = await startDevChain({ dataDir: path.join(dir, 'chain'), port: 0, fundAccounts: 3 });
  const rpc = await relay(chain.anvil.port);
  const deploymentFile = path.join(dir, 'deployment.json');
  writeFileSync(deploymentFile, JSON.stringify({ ...chain.deployment, rpcUrl: rpc.url }));
  const session = await ChainSession.connect(chain.deployment, devKeyWallet(CLIENT_KEY));
  return {
    dir,
    dataDir,
    chain,
    rpc,
    runs: new RunRegistryClient(session),
    startAgent: (extra = []) =>
      startAgentProcess(
        [
          '--deployment', deploymentFile,
          '--port', '0',
          '--public-url', 'http://provider.test:8888',
          '--data-dir', dataDir,
          '--backend', 'local',
          '--price', '3600',
          '--min-escrow-seconds', '5',
          ...extra
        ],
        { AIN_PROVIDER_KEY: PROVIDER_KEY }
      ), // prettier-ignore
    async close() {
      await stopAllProcesses('SIGKILL');
      session.close();
      await rpc.close();
      await chain.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Opens a run on-chain as the client, logs in and creates it on the agent; resolves once its kernel is ready. */
export async function openAgentRun(
  bed: IFaultBed,
  agentUrl: string,
  tag: string
): Promise<{ runId: Hex32; token: string }> {
  const bundle = makeBundle(tag);
  const { runId } = await bed.runs.openRun({
    provider: PROVIDER,
    bundleHash: bundle.bundleHash,
    nonce: BigInt(random32()) & ((1n << 64n) - 1n),
    samplingSecret: random32(),
    escrow: parseUnits('3000', 18),
    pricePerHour: parseUnits('3600', 18)
  });
  const token = await login(agentUrl, CLIENT_KEY);
  const created = await call(agentUrl, 'POST', `/runs?runId=${runId}`, { token, body: bundle.bytes });
  if (created.status !== 201) {
    throw new Error(`POST /runs answered ${created.status}: ${JSON.stringify(created.json)}`);
  }
  await waitFor(
    async () => (await call(agentUrl, 'GET', `/runs/${runId}`, { token })).json.state === 'running',
    120_000,
    'the run to be running'
  );
  return { runId, token };
}

/** A KernelManager reaching the run's kernels through the agent, with the client's agent token. */
export function runKernelManager(agentUrl: string, runId: Hex32, token: string): KernelManager {
  return new KernelManager({
    serverSettings: nodeServerSettings(`${agentUrl}/runs/${runId}/jupyter/`, token)
  });
}

/** True while process `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8') as string;
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
