/**
 * The isolation specs' provider: `ain provider start` as a child process with an encrypted keystore (its password
 * in $AIN_PROVIDER_PASSWORD, as a provider would run it), the local kernel backend and one allowed browser origin,
 * on a development chain, and two clients with their own wallets, each with a run of its own bundle. The agent's
 * environment folder is the kernel tests' ENV_CACHE (a symlink): the uv environment is built once for all specs.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Kernel } from '@jupyterlab/services';
import { Wallet, parseUnits } from 'ethers';
import WebSocket from 'ws';
import type { Hex32 } from '../../src/core/hash';
import type { Bundle } from '../../src/core/bundle-writer';
import { IDevChain, devPrivateKey, startDevChain } from '../../src/chain/dev-chain';
import { saveKeystore } from '../../src/chain/keystore-node';
import { RunRegistryClient } from '../../src/chain/run-registry';
import { ChainSession } from '../../src/chain/session';
import { devKeyWallet } from '../../src/chain/wallet';
import { random32 } from '../integration/chain-fixture';
import { call, login, makeBundle, waitFor } from '../integration/agent-service-fixture';
import {
  IAgentProcess,
  buildCli,
  startAgentProcess,
  stopAllProcesses
} from '../integration/cli-process-fixture';
import { ENV_CACHE } from '../integration/agent-kernel-fixture';

export const PROVIDER_KEY = devPrivateKey(1);
export const PROVIDER = new Wallet(PROVIDER_KEY).address;
export const PASSWORD = 'isolation keystore pw 7f3a9c';
export const ALLOWED_ORIGIN = 'http://lab.allowed.test:8888';

/** One client: its wallet key, its token, its run and that run's bundle. */
export interface ITenant {
  key: string;
  address: string;
  token: string;
  runId: Hex32;
  bundle: Bundle;
}

export interface IIsolationBed {
  dir: string;
  dataDir: string;
  keystore: string;
  agent: IAgentProcess;
  chain: IDevChain;
  /** Client A (dev account 2) and client B (dev account 3), each logged in with a running run. */
  a: ITenant;
  b: ITenant;
  close(): Promise<void>;
}

/** Starts the chain, the agent (with `extra` flags) and the two clients' runs; waits until both are running. */
export async function startIsolationBed(prefix: string, extra: string[] = []): Promise<IIsolationBed> {
  buildCli();
  const dir = mkdtempSync(path.join(tmpdir(), `ain-${prefix}-`));
  const dataDir = path.join(dir, 'agent');
  mkdirSync(dataDir);
  mkdirSync(ENV_CACHE, { recursive: true });
  symlinkSync(ENV_CACHE, path.join(dataDir, 'environments'));
  const chain = await startDevChain({ dataDir: path.join(dir, 'chain'), port: 0, fundAccounts: 4 });
  const deploymentFile = path.join(dir, 'deployment.json');
  writeFileSync(deploymentFile, JSON.stringify(chain.deployment));
  const keystore = path.join(dir, 'provider-keystore.json');
  await saveKeystore(keystore, new Wallet(PROVIDER_KEY), PASSWORD, { scryptN: 1024 });
  const args = [
    '--deployment', deploymentFile,
    '--keystore', keystore,
    '--port', '0',
    '--data-dir', dataDir,
    '--backend', 'local',
    '--price', '3600',
    '--min-escrow-seconds', '5',
    '--checkpoint-receipts', '0',
    '--checkpoint-seconds', '0',
    '--allow-origin', ALLOWED_ORIGIN,
    ...extra
  ]; // prettier-ignore
  const agent = await startAgentProcess(args, { AIN_PROVIDER_PASSWORD: PASSWORD });
  // An agent that dies under a spec is a finding: say so with its output instead of a bare "fetch failed".
  let closing = false;
  agent.child.once('exit', (code, signal) => {
    if (!closing && code !== 0) {
      console.error(`agent exited (${code ?? signal}) during the spec:\n${agent.output()}`);
    }
  });
  const sessions: ChainSession[] = [];
  const tenant = async (account: number, tag: string): Promise<ITenant> => {
    const key = devPrivateKey(account);
    const session = await ChainSession.connect(chain.deployment, devKeyWallet(key));
    sessions.push(session);
    const bundle = makeBundle(tag);
    const { runId } = await new RunRegistryClient(session).openRun({
      provider: PROVIDER,
      bundleHash: bundle.bundleHash,
      nonce: BigInt(account),
      samplingSecret: random32(),
      escrow: parseUnits('600', 18),
      pricePerHour: parseUnits('3600', 18)
    });
    const token = await login(agent.url, key);
    const created = await call(agent.url, 'POST', `/runs?runId=${runId}`, { token, body: bundle.bytes });
    expect(created.status).toBe(201);
    return { key, address: new Wallet(key).address, token, runId, bundle };
  };
  const a = await tenant(2, 'tenant-a');
  const b = await tenant(3, 'tenant-b');
  for (const t of [a, b]) {
    await waitFor(
      async () => {
        // A fresh token each time: specs may run the agent with a short --token-ttl.
        const token = await login(agent.url, t.key);
        return (await call(agent.url, 'GET', `/runs/${t.runId}`, { token })).json.state === 'running';
      },
      60_000,
      'a running run'
    );
  }
  return {
    dir,
    dataDir,
    keystore,
    agent,
    chain,
    a,
    b,
    async close() {
      closing = true;
      await stopAllProcesses('SIGTERM');
      sessions.forEach(s => s.close());
      await chain.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

// The kernels of a run, reached through the agent as JupyterLab does: the fault suite's helper.
export { runKernelManager as kernelManager } from './fixture-agent';

/** Runs `code` and returns its stdout text and error names. */
export async function runCode(kernel: Kernel.IKernelConnection, code: string): Promise<string> {
  let text = '';
  const future = kernel.requestExecute({ code });
  future.onIOPub = msg => {
    const c = msg.content as { text?: string; ename?: string; evalue?: string };
    if (msg.header.msg_type === 'stream') {
      text += c.text;
    } else if (msg.header.msg_type === 'error') {
      text += `${c.ename}: ${c.evalue}\n`;
    }
  };
  await future.done;
  return text;
}

/**
 * What a raw WebSocket upgrade to `url` gets: 'open' when the agent accepts it, else the HTTP status of the
 * refusal (or 'closed' when the socket is dropped without one).
 */
export function tryUpgrade(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise(resolve => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(String(res.statusCode));
      ws.terminate();
    });
    ws.on('error', () => resolve('closed'));
  });
}
