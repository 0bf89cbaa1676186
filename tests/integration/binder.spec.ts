/**
 * binder/: what mybinder.org (repo2docker) reads to launch this repository. The environment files are read by the
 * core's own environment detection, as a provider reads a bundle's; `binder/start` is run for real, in a temporary
 * HOME on free ports, with a trivial command in place of the notebook server: the development chain must answer
 * on its port, the provider's /health must answer, the extension's settings must point at them, and the server's
 * command must run. (mybinder.org itself cannot be reached from here.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { detectEnvironment } from '../../src/core/environment';

const ROOT = path.resolve(__dirname, '..', '..');
const BINDER = path.join(ROOT, 'binder');

function binderFiles(): Map<string, Uint8Array> {
  return new Map(
    readdirSync(BINDER).map(name => [`binder/${name}`, new Uint8Array(readFileSync(path.join(BINDER, name)))])
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const value = await fn();
      if (value !== undefined) {
        return value;
      }
    } catch (e) {
      last = e;
    }
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`${what} did not answer within ${timeoutMs / 1000} s (${String(last)})`);
}

describe('binder/ (mybinder.org)', () => {
  it('is a conda environment the core reads as repo2docker would: Python 3.11 and the pinned packages', () => {
    const report = detectEnvironment(binderFiles());
    expect(report.kind).toBe('conda');
    expect(report.root).toBe('binder/');
    expect(report.files).toEqual(['binder/environment.yml', 'binder/postBuild', 'binder/start']);
    expect(report.install.python).toBe('3.11');
    expect(report.install.conda?.dependencies).toEqual(['python=3.11', 'nodejs>=20.19,<21', 'pip']);
    expect(report.install.requirements.map(r => r.requirement)).toEqual([
      'jupyterlab==4.6.6',
      'jupyter_server==2.21.1',
      'ipykernel==7.4.0',
      'uv==0.13.8',
      'jupyter-server-proxy==4.6.0'
    ]);
    // Binder runs the build and start scripts; a provider never does, and says so rather than ignoring them.
    expect(report.refused.map(r => [r.file, r.rule])).toEqual([
      ['binder/postBuild', 'post-build'],
      ['binder/start', 'start']
    ]);
    expect(report.ignored).toEqual([]);
  });

  it('start runs the chain and a provider in the background, points the extension at them, then the server', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'ain-binder-'));
    const [chainPort, providerPort] = [await freePort(), await freePort()];
    const dev = path.join(home, '.ain', 'binder');
    const pids = () =>
      ['provider.pid', 'chain.pid']
        .map(f => path.join(dev, f))
        .filter(f => existsSync(f))
        .map(f => Number(readFileSync(f, 'utf8')));
    try {
      const started = Date.now();
      const run = spawnSync(
        path.join(BINDER, 'start'),
        ['node', '-e', 'console.log("the server runs: " + process.argv[1])', 'ok'],
        {
          cwd: home,
          env: {
            ...process.env,
            HOME: home,
            PATH: `${path.join(ROOT, '.venv', 'bin')}${path.delimiter}${process.env.PATH}`,
            AIN_CHAIN_PORT: String(chainPort),
            AIN_PROVIDER_PORT: String(providerPort),
            AIN_LAB_SETTINGS_DIR: path.join(home, 'lab-settings'),
            // As on mybinder.org, where JupyterHub serves this server under /user/<name>/.
            JUPYTERHUB_SERVICE_PREFIX: '/user/ain-test/'
          },
          encoding: 'utf8',
          timeout: 180_000
        }
      );
      expect(run.status).toBe(0);
      // The server's command ran last (exec), after the chain was up: start does not wait for the provider.
      expect(run.stdout).toBe('the server runs: ok\n');
      expect(run.stderr).toContain(`binder/start: chain on 127.0.0.1:${chainPort}`);
      console.log(`binder/start handed over to the server after ${Date.now() - started} ms`);

      const chainId = await poll('the chain', async () => {
        const res = await fetch(`http://127.0.0.1:${chainPort}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] })
        });
        return ((await res.json()) as { result: string }).result;
      });
      expect(chainId).toBe('0x7a69');
      const health = await poll('the provider', async () => {
        const res = await fetch(`http://127.0.0.1:${providerPort}/health`);
        return res.ok ? ((await res.json()) as { status: string; chainId: number }) : undefined;
      });
      expect(health).toMatchObject({ status: 'ok', chainId: 31337 });
      const info = (await (await fetch(`http://127.0.0.1:${providerPort}/info`)).json()) as any;
      expect(info.capabilities.name).toBe('binder-provider');

      const settings = JSON.parse(
        readFileSync(path.join(home, 'lab-settings', 'overrides.d', 'jupyterlab-ain-binder.json'), 'utf8')
      )['jupyterlab-ain:settings'];
      const deployment = JSON.parse(readFileSync(path.join(dev, 'chain', 'deployment.json'), 'utf8'));
      expect(settings).toMatchObject({
        // The page reaches the chain through jupyter-server-proxy, at a path it resolves against its origin.
        rpcUrl: `/user/ain-test/proxy/${chainPort}/`,
        chainId: 31337,
        contracts: deployment.contracts,
        walletMode: 'development-key'
      });
      expect(settings.developmentKey).toMatch(/^0x[0-9a-f]{64}$/);
      // Registered on-chain with its proxy path, for the same reason.
      expect(readFileSync(path.join(dev, 'logs', 'provider.log'), 'utf8')).toMatch(
        new RegExp(
          `^listening\\s+http://127.0.0.1:${providerPort} \\(public /user/ain-test/proxy/${providerPort};`,
          'm'
        )
      );
    } finally {
      for (const pid of pids()) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      // Both stop on SIGTERM (the chain saves its state, the agent closes its store); wait until they have.
      await poll('the chain and the provider to stop', async () =>
        pids().every(pid => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        })
          ? true
          : undefined
      );
      rmSync(home, { recursive: true, force: true });
    }
  });
});
