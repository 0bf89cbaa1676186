#!/usr/bin/env node
// bench/load: issue 7's load case, longer than the CI spec. Ours: tests/reliability/load.spec.ts run by jest with
// LOAD_SECONDS of load (20 runs on one `ain provider start`, anvil, each client executing cells back to back through
// /runs/{id}/jupyter). Baseline in the same run: the same 20 clients, the same cells, against one stock `jupyter
// server` with 20 kernels, reached directly (no proxy, no receipts, no chain). Ratios are what to compare.
// Needs `npm run build:lib`. Usage: node bench/load/run.js   (BENCH_RUNS=20, BENCH_SECONDS=120)
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { createServer } = require('node:net');
const { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { KernelManager } = require('@jupyterlab/services');
const { venvExecutable } = require('../../lib-node/agent/backend-local.js');
const { UvEnvironmentBuilder } = require('../../lib-node/agent/env-builder-uv.js');
const { detectEnvironment } = require('../../lib-node/core/environment.js');
const { nodeServerSettings } = require('../../lib-node/cli/jupyter-settings.js');

const ROOT = join(__dirname, '..', '..');
const ENV_CACHE = join(tmpdir(), 'ain-agent-test-envs');
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 120);

// @jupyterlab/services logs every websocket it opens: 40 lines of noise here.
console.debug = () => undefined;

const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
};

/** RSS of `pid` and its descendants, MiB (from /proc). */
function treeMiB(pid) {
  const parent = new Map();
  for (const name of readdirSync('/proc').filter(n => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(ppid, [...(parent.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    all.push(...(parent.get(all[i]) ?? []));
  }
  let kib = 0;
  for (const p of all) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))[1]);
    } catch {
      // exited meanwhile
    }
  }
  return kib / 1024;
}

/** Ours: the reliability spec with a longer load, its figures written as JSON. */
function ours() {
  const dir = mkdtempSync(join(tmpdir(), 'ain-bench-load-'));
  const json = join(dir, 'figures.json');
  console.log(
    `ours: ${RUNS} runs on one agent, ${SECONDS} s of load (jest tests/reliability/load.spec.ts) ...`
  );
  const r = spawnSync(
    'npx',
    ['jest', '--ci', `--testTimeout=${(SECONDS + 300) * 1000}`, 'tests/reliability/load.spec.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LOAD_RUNS: String(RUNS),
        LOAD_SECONDS: String(SECONDS),
        LOAD_JSON: json,
        RELIABILITY_RESULTS: join(dir, 'results')
      },
      stdio: ['ignore', 'ignore', 'inherit']
    }
  );
  if (r.status !== 0) {
    throw new Error('the load spec failed (its output is above)');
  }
  const figures = JSON.parse(readFileSync(json, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

/** A stock `jupyter server` (no patch, no sandbox: not the agent's backend) whose python3 kernel runs `python`. */
async function stockServer(dir, python) {
  const spec = join(dir, 'share', 'kernels', 'python3');
  mkdirSync(spec, { recursive: true });
  const argv = [python, '-m', 'ipykernel_launcher', '-f', '{connection_file}'];
  writeFileSync(
    join(spec, 'kernel.json'),
    JSON.stringify({ argv, display_name: 'Python 3', language: 'python' })
  );
  const port = await new Promise(resolve => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = probe.address().port;
      probe.close(() => resolve(p));
    });
  });
  const token = randomBytes(16).toString('hex');
  const child = spawn(
    venvExecutable('jupyter'),
    [
      'server',
      '--no-browser',
      `--ServerApp.port=${port}`,
      '--ServerApp.ip=127.0.0.1',
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${join(dir, 'work')}`,
      '--KernelSpecManager.ensure_native_kernel=False',
      '--allow-root'
    ],
    { env: { ...process.env, JUPYTER_PATH: join(dir, 'share') }, stdio: 'ignore' }
  );
  const baseUrl = `http://127.0.0.1:${port}/`;
  for (;;) {
    const ok = await fetch(`${baseUrl}api/status?token=${token}`).then(
      r => r.ok,
      () => false
    );
    if (ok) {
      break;
    }
    if (child.exitCode !== null) {
      throw new Error('the stock jupyter server exited');
    }
    await new Promise(r => setTimeout(r, 100));
  }
  return { baseUrl, token, stop: () => new Promise(r => (child.once('exit', r), child.kill('SIGTERM'))) };
}

/** Executes one cell; undefined when no reply came within 30 s (a dead kernel). */
async function execute(kernel, code) {
  let text = '';
  let value;
  const future = kernel.requestExecute({ code });
  future.onIOPub = msg => {
    if (msg.header.msg_type === 'stream') {
      text += msg.content.text;
    } else if (msg.header.msg_type === 'execute_result') {
      value = msg.content.data['text/plain'];
    }
  };
  let timer;
  const reply = await Promise.race([
    future.done.catch(() => undefined),
    new Promise(r => (timer = setTimeout(r, 30000)))
  ]);
  clearTimeout(timer);
  return reply ? { text, value } : undefined;
}

/** Baseline: one stock jupyter server, RUNS kernels, the same clients and cells, reached directly. */
async function stock() {
  console.log(`stock: ${RUNS} kernels on one jupyter server, ${SECONDS} s of load ...`);
  const dir = mkdtempSync(join(tmpdir(), 'ain-bench-load-stock-'));
  mkdirSync(join(dir, 'work'));
  const builder = new UvEnvironmentBuilder({ cacheDir: ENV_CACHE, uv: venvExecutable('uv') });
  const env = await builder.build(detectEnvironment(new Map()), new Map(), () => undefined);
  const t0 = performance.now();
  const server = await stockServer(dir, env.python);
  const manager = new KernelManager({
    serverSettings: nodeServerSettings(server.baseUrl, server.token)
  });
  const kernels = await Promise.all(
    Array.from({ length: RUNS }, async () => {
      const k = await manager.startNew({ name: 'python3' });
      await k.info;
      return k;
    })
  );
  const startMs = performance.now() - t0;
  let peak = 0;
  // The server and its kernels are this process's children: their memory is the tree's less our own.
  const children = () => treeMiB(process.pid) - process.memoryUsage().rss / 2 ** 20;
  const sampler = setInterval(() => (peak = Math.max(peak, children())), 1000);
  const until = Date.now() + SECONDS * 1000;
  const start = Date.now();
  const times = [];
  let lost = 0;
  await Promise.all(
    kernels.map(async (kernel, r) => {
      for (let i = 0; Date.now() < until; i++) {
        const t = performance.now();
        const got = await execute(kernel, `print("run${r} line ${i}")\n${i} * 7`);
        if (!got) {
          lost += 1;
          break;
        }
        times.push(performance.now() - t);
        lost += got.text === `run${r} line ${i}\n` && got.value === String(i * 7) ? 0 : 1;
      }
    })
  );
  const seconds = (Date.now() - start) / 1000;
  clearInterval(sampler);
  await Promise.all(kernels.map(k => k.shutdown().catch(() => undefined)));
  manager.dispose();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    startMs,
    p50: quantile(times, 0.5),
    p99: quantile(times, 0.99),
    perSecond: times.length / seconds,
    peakMiB: peak,
    cells: times.length,
    lost
  };
}

async function main() {
  const base = await stock();
  const our = ours();
  const rows = [
    ['all runs/kernels ready, ms', our.allKernelsMs, base.startMs, 'lower'],
    ['execute round trip p50, ms', our.roundTripP50Ms, base.p50, 'lower'],
    ['execute round trip p99, ms', our.roundTripP99Ms, base.p99, 'lower'],
    ['cells per second (all clients)', our.receiptsPerSecond, base.perSecond, 'higher'],
    [
      'memory, MiB (ours: agent + its children; stock: server + kernels)',
      our.agentPeakMiB + our.childrenPeakMiB,
      base.peakMiB,
      'lower'
    ],
    [
      'anchoring lag p50 / p99, ms',
      `${Math.round(our.anchorLagP50Ms)} / ${Math.round(our.anchorLagP99Ms)}`,
      '—',
      ''
    ]
  ];
  const fmt = x =>
    typeof x === 'number' ? (x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(1)) : x;
  console.log(
    `\n${RUNS} concurrent clients, ${SECONDS} s of load (2 cores); ours: ${our.cells} cells, stock: ${base.cells} cells (${base.lost} wrong)`
  );
  console.log('| measure | ours | stock jupyter server | ratio |\n|---|---:|---:|---:|');
  for (const [what, o, s, better] of rows) {
    const ratio =
      typeof o === 'number' && typeof s === 'number' ? `${(o / s).toFixed(2)} (${better} is better)` : '—';
    console.log(`| ${what} | ${fmt(o)} | ${fmt(s)} | ${ratio} |`);
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
