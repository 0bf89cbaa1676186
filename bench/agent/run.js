#!/usr/bin/env node
// bench/agent: the agent's kernel path against a stock `jupyter server` on the same machine in the same run
// (issue 4's benchmark list); ratios are what to compare. Needs `npm run build:lib` (or `npx tsc -p
// tsconfig.node.json`). Usage: node bench/agent/run.js [--no-env]   (--no-env skips the numpy+pandas builds)
'use strict';
const { spawnSync } = require('node:child_process');
const { createServer } = require('node:http');
const { mkdtempSync, mkdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { SigningKey, hexlify, randomBytes } = require('ethers');
const { KernelManager } = require('@jupyterlab/services');
const { LocalKernelBackend, venvExecutable } = require('../../lib-node/agent/backend-local.js');
const { UvEnvironmentBuilder } = require('../../lib-node/agent/env-builder-uv.js');
const { createRunRuntime } = require('../../lib-node/agent/run-runtime.js');
const { ReceiptStore } = require('../../lib-node/agent/store-receipts.js');
const { openDatabase } = require('../../lib-node/agent/database.js');
const { detectEnvironment } = require('../../lib-node/core/environment.js');
const { nodeServerSettings } = require('../../lib-node/cli/jupyter-settings.js');

const ROOT = join(__dirname, '..', '..');
const ENV_CACHE = join(tmpdir(), 'ain-agent-test-envs');
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 200);
const CELLS = Number(process.env.BENCH_CELLS ?? 1000);

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function kernelOn(serverSettings) {
  const manager = new KernelManager({ serverSettings });
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  return { manager, kernel };
}

async function roundTrip(kernel) {
  for (let i = 0; i < 10; i++) {
    await kernel.requestExecute({ code: '1+1' }).done;
  }
  const times = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t0 = performance.now();
    await kernel.requestExecute({ code: '1+1' }).done;
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Cells per second of CELLS cells printing 1 KiB each, sequential or all sent at once. */
async function throughput(kernel, pipelined) {
  const code = 'print("x" * 1023)';
  const t0 = performance.now();
  if (pipelined) {
    const futures = [];
    for (let i = 0; i < CELLS; i++) {
      futures.push(kernel.requestExecute({ code }).done);
    }
    await Promise.all(futures);
  } else {
    for (let i = 0; i < CELLS; i++) {
      await kernel.requestExecute({ code }).done;
    }
  }
  return CELLS / ((performance.now() - t0) / 1000);
}

function runContext(dir) {
  const workDir = join(dir, 'work');
  mkdirSync(workDir, { recursive: true });
  const runId = hexlify(randomBytes(32));
  return {
    runId,
    client: '0x0000000000000000000000000000000000000001',
    manifest: { notebook: 'main.ipynb' },
    files: new Map([['main.ipynb', new TextEncoder().encode('{}')]]),
    workDir,
    domain: { chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    signingKey: new SigningKey(hexlify(randomBytes(32))),
    salt: hexlify(randomBytes(32)),
    onEvent: () => undefined
  };
}

/** Mounts a runtime at /jupyter/ on a local HTTP server, as the service's router would. */
async function mount(runtime) {
  const server = createServer((req, res) =>
    runtime.handleRequest(req, res, req.url.replace(/^\/jupyter\//, ''))
  );
  server.on('upgrade', (req, socket, head) =>
    runtime.handleUpgrade(req, socket, head, req.url.replace(/^\/jupyter\//, ''))
  );
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  return { server, baseUrl: `http://127.0.0.1:${server.address().port}/jupyter/` };
}

function timeCommand(cmd, args, env) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed`);
  }
  return (performance.now() - t0) / 1000;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ain-bench-agent-'));
  const rows = [];
  const builder = new UvEnvironmentBuilder({ cacheDir: ENV_CACHE, uv: venvExecutable('uv') });
  const env = await builder.build(detectEnvironment(new Map()), new Map(), () => undefined);
  // Stock: a jupyter server without the TCP_NODELAY patch, reached directly.
  const stockDir = join(dir, 'stock');
  mkdirSync(join(stockDir, 'work'), { recursive: true });
  const stock = await new LocalKernelBackend({ nodelay: false }).start({
    runId: '0x' + '11'.repeat(32),
    workDir: join(stockDir, 'work'),
    environment: env
  });
  const t0 = performance.now();
  const direct = await kernelOn(nodeServerSettings(stock.baseUrl, stock.token));
  const stockReady = performance.now() - t0;
  // Agent: a run runtime (warm environment) behind its proxy.
  const db = openDatabase(join(dir, 'agent.db'));
  const ctx = runContext(join(dir, 'run'));
  const t1 = performance.now();
  const runtime = createRunRuntime(ctx, {
    backend: new LocalKernelBackend(),
    envBuilder: builder,
    store: new ReceiptStore(db)
  });
  await runtime.start();
  const mounted = await mount(runtime);
  const agent = await kernelOn(nodeServerSettings(mounted.baseUrl, 'client-token'));
  const agentReady = performance.now() - t1;
  try {
    const rtStock = await roundTrip(direct.kernel);
    const rtAgent = await roundTrip(agent.kernel);
    rows.push([
      'execute 1+1 round trip, median ms',
      rtAgent,
      rtStock,
      rtAgent / rtStock,
      '<= 1.0 (stretch 0.3)'
    ]);
    const seqStock = await throughput(direct.kernel, false);
    const seqAgent = await throughput(agent.kernel, false);
    rows.push([
      `${CELLS} cells x 1 KiB sequential, cells/s`,
      seqAgent,
      seqStock,
      seqAgent / seqStock,
      '>= 1.0'
    ]);
    const pipeStock = await throughput(direct.kernel, true);
    const pipeAgent = await throughput(agent.kernel, true);
    rows.push([
      `${CELLS} cells x 1 KiB pipelined, cells/s`,
      pipeAgent,
      pipeStock,
      pipeAgent / pipeStock,
      '>= 1.0'
    ]);
    rows.push([
      'kernel ready (agent: runtime start + kernel; stock: kernel on a running server), ms',
      agentReady,
      stockReady,
      agentReady / stockReady,
      '<= 1.2'
    ]);
  } finally {
    direct.manager.dispose();
    agent.manager.dispose();
    await runtime.stop();
    await stock.stop();
    mounted.server.close();
    db.close();
  }
  if (!process.argv.includes('--no-env')) {
    // Cold: empty package caches for both, numpy + pandas + ipykernel from PyPI.
    const uvCold = new UvEnvironmentBuilder({ cacheDir: join(dir, 'uv-envs'), uv: venvExecutable('uv') });
    const files = new Map([['requirements.txt', new TextEncoder().encode('numpy\npandas\n')]]);
    const u0 = performance.now();
    await uvCold.build(detectEnvironment(files), files, () => undefined);
    const uvSeconds = (performance.now() - u0) / 1000;
    const venv = join(dir, 'pip-venv');
    const pipSeconds =
      timeCommand('python3', ['-m', 'venv', venv]) +
      timeCommand(
        join(venv, 'bin', 'pip'),
        ['install', '-q', '--no-cache-dir', 'numpy', 'pandas', 'ipykernel'],
        {
          PIP_FIND_LINKS: ''
        }
      );
    rows.push([
      'cold environment numpy+pandas+ipykernel, s',
      uvSeconds,
      pipSeconds,
      uvSeconds / pipSeconds,
      '<= 0.3'
    ]);
  }
  rmSync(dir, { recursive: true, force: true });
  const fmt = n => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  console.log('| measure | agent | stock | ratio | goal |');
  console.log('|---|---|---|---|---|');
  for (const [what, a, s, ratio, goal] of rows) {
    console.log(`| ${what} | ${fmt(a)} | ${fmt(s)} | ${ratio.toFixed(2)} | ${goal} |`);
  }
  console.log(`(root: ${ROOT}; round trips: ${ROUND_TRIPS}; cells: ${CELLS})`);
}

main().then(
  () => process.exit(0),
  e => {
    console.error(e);
    process.exit(1);
  }
);
