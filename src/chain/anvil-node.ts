/**
 * Node only: runs anvil (from the pinned npm package @foundry-rs/anvil) as a child process on loopback. Used by
 * `ain chain`, `ain dev` and the integration tests; production never starts a chain.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { makeError } from '../core/errors.js';

/** How to start anvil. */
export interface IAnvilOptions {
  /** 127.0.0.1 unless given: the development chain holds well-known keys and must not be reachable from outside. */
  host?: string;
  /** 0 picks a free port (read back from anvil's output). */
  port?: number;
  chainId?: number;
  /** Load the chain from this file if it exists and dump it back on exit (and every `stateInterval` seconds). */
  stateFile?: string;
  stateInterval?: number;
  /** Milliseconds to wait for anvil to listen. */
  startTimeout?: number;
}

/** A running anvil. */
export interface IAnvil {
  rpcUrl: string;
  port: number;
  pid: number;
  /** Stops anvil with SIGTERM (it dumps its state first) and waits for it to exit. */
  stop(): Promise<void>;
}

/** The anvil binary of the platform package that @foundry-rs/anvil installs, or `anvil` on the PATH. */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`);
    return path.join(path.dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  } catch {
    return 'anvil';
  }
}

/** Starts anvil and resolves once it listens; CHAIN_UNREACHABLE with anvil's output when it does not start. */
export function startAnvil(options: IAnvilOptions = {}): Promise<IAnvil> {
  const host = options.host ?? '127.0.0.1';
  const args = [
    '--host',
    host,
    '--port',
    String(options.port ?? 8545),
    '--chain-id',
    String(options.chainId ?? 31337)
  ];
  if (options.stateFile) {
    args.push('--state', options.stateFile, '--state-interval', String(options.stateInterval ?? 2));
  }
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise<IAnvil>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        makeError('CHAIN_UNREACHABLE', `anvil did not start (${why}). Its output:\n${output.slice(-2000)}`, {
          args
        })
      );
    };
    const timer = setTimeout(() => fail('timed out'), options.startTimeout ?? 15000);
    child.on('error', e => fail(`${e.message}; is @foundry-rs/anvil installed?`));
    child.on('exit', code => fail(`exited with code ${code}`));
    child.stderr!.on('data', d => (output += d));
    child.stdout!.on('data', d => {
      output += d;
      const m = /Listening on ([\d.]+|\[[0-9a-f:]+\]|localhost):(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        const port = Number(m[2]);
        resolve({ rpcUrl: `http://${host}:${port}`, port, pid: child.pid!, stop: () => Private.stop(child) });
      }
    });
  });
}

const Private = {
  stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve();
    }
    return new Promise(resolve => {
      // anvil writes --state on SIGTERM; give it a few seconds before forcing it.
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
};
