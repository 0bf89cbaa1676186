/**
 * The `ain` command as child processes (node bin/ain.js, built from this tree): a long-running provider agent
 * started until it listens (alone, or with a development chain of its own and a logged-in client: startDevAgent),
 * and one-shot commands run to their exit with their output. Every process started here is killed by
 * stopAllProcesses(), so a failing spec leaves nothing behind.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Wallet, parseUnits } from 'ethers';
import type { Hex32 } from '../../src/core/hash';
import { IDevChain, devPrivateKey, startDevChain } from '../../src/chain/dev-chain';
import { RunRegistryClient } from '../../src/chain/run-registry';
import { ChainSession } from '../../src/chain/session';
import { devKeyWallet } from '../../src/chain/wallet';
import { login } from './agent-service-fixture';
import { random32 } from './chain-fixture';

export const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'ain.js');
const children = new Set<ChildProcess>();

/** Builds lib-node from this tree (incremental, a few seconds): the children run the compiled CLI. */
export function buildCli(): void {
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.node.json'], { cwd: ROOT });
}

/** The environment of a child: the README set-up's .venv first on PATH (uv, jupyter), plus `env`. */
export function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${path.join(ROOT, '.venv', 'bin')}:${process.env.PATH}`, ...env };
}

export interface IAgentProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `node bin/ain.js provider start ...args` and resolves once it listens. */
export function startAgentProcess(args: string[], env: Record<string, string> = {}): Promise<IAgentProcess> {
  const child = spawn(process.execPath, [BIN, 'provider', 'start', ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe']
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', d => (out += d));
  child.stderr!.on('data', d => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start:\n${out}`)), 60000);
    child.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code}:\n${out}`));
    });
    child.stdout!.on('data', function started() {
      const m = /listening\s+(http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout!.off('data', started);
        clearTimeout(timer);
        child.removeAllListeners('exit');
        // An agent that dies under a spec fails it with "connection refused": say why, in the CI log.
        child.on('exit', (code, signal) => {
          if (!killing.has(child)) {
            console.error(
              `[test] the agent at ${m[1]} exited unexpectedly (code ${code}, signal ${signal}); its last ` +
                `output:\n${out.split('\n').slice(-40).join('\n')}`
            );
          }
        });
        resolve({ child, url: m[1], output: () => out, stop: () => killProcess(child, 'SIGTERM') });
      }
    });
  });
}

/** An agent process on a development chain of its own (provider: account 1), with its client (account 2). */
export interface IDevAgent {
  /** The spec's folder: chain/, agent/ (the agent's data folder) and deployment.json. */
  dir: string;
  chain: IDevChain;
  agent: IAgentProcess;
  /** The client's agent token. */
  token: string;
  /** The run registry as the client. */
  runs: RunRegistryClient;
  /** Opens a run of `bundleHash` with the agent's provider as the client (600 s of escrow at 3,600 an hour). */
  openRun(bundleHash: Hex32, nonce: bigint): Promise<Hex32>;
  /** Kills every process of this fixture, stops the chain and removes the folder. */
  close(): Promise<void>;
}

/**
 * Builds the CLI, starts a development chain in a new folder `ain-<prefix>-*`, and `ain provider start` on it
 * (account 1, the kernel `backend`, price 3,600 an hour, 5 s of escrow at least); logs the client (account 2) in.
 */
export async function startDevAgent(prefix: string, backend: 'none' | 'local'): Promise<IDevAgent> {
  buildCli();
  const dir = mkdtempSync(path.join(tmpdir(), `ain-${prefix}-`));
  let chain: IDevChain | undefined;
  let session: ChainSession | undefined;
  const close = async () => {
    session?.close();
    await stopAllProcesses('SIGKILL');
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    chain = await startDevChain({ dataDir: path.join(dir, 'chain'), port: 0, fundAccounts: 3 });
    const deployment = path.join(dir, 'deployment.json');
    writeFileSync(deployment, JSON.stringify(chain.deployment));
    const agent = await startAgentProcess(
      [
        '--deployment', deployment,
        '--port', '0',
        '--data-dir', path.join(dir, 'agent'),
        '--backend', backend,
        '--price', '3600',
        '--min-escrow-seconds', '5'
      ], // prettier-ignore
      { AIN_PROVIDER_KEY: devPrivateKey(1) }
    );
    const token = await login(agent.url, devPrivateKey(2));
    session = await ChainSession.connect(chain.deployment, devKeyWallet(devPrivateKey(2)));
    const runs = new RunRegistryClient(session);
    const openRun = async (bundleHash: Hex32, nonce: bigint) =>
      (
        await runs.openRun({
          provider: new Wallet(devPrivateKey(1)).address,
          bundleHash,
          nonce,
          samplingSecret: random32(),
          escrow: parseUnits('600', 18),
          pricePerHour: parseUnits('3600', 18)
        })
      ).runId;
    return { dir, chain, agent, token, runs, openRun, close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}

export interface IExit {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node bin/ain.js ...args` to its exit. */
export function runAin(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {}
): Promise<IExit> {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: childEnv(options.env),
    cwd: options.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', d => (stdout += d));
  child.stderr!.on('data', d => (stderr += d));
  return new Promise(resolve =>
    child.on('exit', code => {
      children.delete(child);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    })
  );
}

/** Processes a spec is stopping on purpose (their exit is no news). */
const killing = new WeakSet<ChildProcess>();

/** Sends `signal` on purpose (a spec watching the exit itself), without the unexpected-exit report. */
export function sendSignal(child: ChildProcess, signal: NodeJS.Signals): void {
  killing.add(child);
  child.kill(signal);
}

/** Sends `signal` and waits for the exit (SIGKILL after 10 s). */
export function killProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  killing.add(child);
  return new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return resolve();
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.once('exit', () => {
      clearTimeout(timer);
      children.delete(child);
      resolve();
    });
    child.kill(signal);
  });
}

/**
 * Stops every process this fixture started and is still running, and everything they started: an agent's
 * per-run jupyter servers and kernels live in process groups of their own, so a SIGKILLed agent would leave them
 * running (the agent reaps them at its next start, but a test's agent has none).
 */
export async function stopAllProcesses(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const below = [...children].flatMap(c => (c.pid ? descendants(c.pid) : []));
  await Promise.all([...children].map(c => killProcess(c, signal)));
  for (const pid of below) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone (an agent stopped with SIGTERM stops its servers itself).
    }
  }
}

/** The pids below `pid` in the process tree, read from /proc (Linux). */
export function descendants(pid: number): number[] {
  const direct: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      direct.push(...(list ? list.split(/\s+/).map(Number) : []));
    }
  } catch {
    return [];
  }
  return [...direct, ...direct.flatMap(descendants)];
}
