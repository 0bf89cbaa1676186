/**
 * The `ain` command as child processes (node bin/ain.js, built from this tree): a long-running provider agent
 * started until it listens, and one-shot commands run to their exit with their output. Every process started
 * here is killed by stopAllProcesses(), so a failing spec leaves nothing behind.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

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
        resolve({ child, url: m[1], output: () => out, stop: () => killProcess(child, 'SIGTERM') });
      }
    });
  });
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

/** Sends `signal` and waits for the exit (SIGKILL after 10 s). */
export function killProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
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
