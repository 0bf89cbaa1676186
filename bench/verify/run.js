#!/usr/bin/env node
// bench/verify: the cost of the three verification levels on examples/train-classifier, as ratios of the
// original run's time on a provider measured in the same run, and the detection rate of checkpoint sampling over
// simulated cheating runs against the formula. Real parts: anvil, `ain provider start` (child process), the
// verifier's local kernel (ain verify's local executor). Needs `npm run build:lib`.
// Usage: node bench/verify/run.js   (BENCH_ROUNDS=3 runs measured, BENCH_TRIALS=200 cheating runs per row,
// BENCH_SAMPLES=2 checkpoints sampled)
'use strict';
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { basename, dirname, join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { Wallet, hexlify, parseUnits } = require('ethers');
const { KernelManager } = require('@jupyterlab/services');
const { createBundle } = require('../../lib-node/core/bundle-writer.js');
const { emptyEvidence } = require('../../lib-node/core/evidence.js');
const { OutputCollector } = require('../../lib-node/core/kernel-outputs.js');
const { notebookHash } = require('../../lib-node/core/notebook.js');
const { checkpointPlan, checkpointSummary } = require('../../lib-node/core/verify-checkpoints.js');
const { verifyNotebook } = require('../../lib-node/core/verify-run.js');
const { AgentClient } = require('../../lib-node/chain/agent-client.js');
const { devPrivateKey, startDevChain } = require('../../lib-node/chain/dev-chain.js');
const { RunRegistryClient } = require('../../lib-node/chain/run-registry.js');
const { ChainSession } = require('../../lib-node/chain/session.js');
const { readCheckpointSampling } = require('../../lib-node/chain/verify-chain.js');
const { devKeyWallet } = require('../../lib-node/chain/wallet.js');
const { NodeEvidenceSource } = require('../../lib-node/cli/verify-evidence-source.js');
const { startLocalExecutor } = require('../../lib-node/cli/verify-executor-local.js');
const { nodeServerSettings } = require('../../lib-node/cli/jupyter-settings.js');

const ROOT = join(__dirname, '..', '..');
const NOTEBOOK = join(ROOT, 'examples', 'train-classifier', 'train-classifier.ipynb');
// The agent tests' environment cache: scikit-learn is installed once per machine.
const ENV_CACHE = join(tmpdir(), 'ain-agent-test-envs');
const TRIALS = Number(process.env.BENCH_TRIALS ?? 200);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PRICE = parseUnits('3600', 18);
const random32 = () => hexlify(randomBytes(32));
const seconds = ms => ms / 1000;
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A data folder whose `environments` is the shared cache (agent and verifier both build there). */
function dataDir(dir) {
  mkdirSync(dir, { recursive: true });
  mkdirSync(ENV_CACHE, { recursive: true });
  symlinkSync(ENV_CACHE, join(dir, 'environments'));
  return dir;
}

/** `node bin/ain.js provider start ...args`, resolved once it listens. */
function startProvider(args) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'ain.js'), 'provider', 'start', ...args], {
    env: { ...process.env, PATH: `${join(ROOT, '.venv', 'bin')}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let out = '';
  child.stdout.on('data', d => (out += d));
  child.stderr.on('data', d => (out += d));
  return new Promise((resolve, reject) => {
    child.on('exit', code => reject(new Error(`the provider exited with ${code}:\n${out}`)));
    child.stdout.on('data', function started() {
      const m = /listening\s+(http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout.off('data', started);
        child.removeAllListeners('exit');
        const stop = () =>
          new Promise(r => {
            child.once('exit', r);
            child.kill('SIGTERM');
          });
        resolve({ child, url: m[1], stop });
      }
    });
  });
}

async function until(check, what, timeoutMs = 300000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise(r => setTimeout(r, 100));
  }
}

/**
 * The original run, as JupyterLab makes it: bundle, run opened on-chain, upload, every code cell executed with
 * its id and tags. Timed from the upload to the last cell's reply (the environment is warm, as it is for the
 * verifier's kernel). Returns the notebook as the client saves it, with metadata.ain.
 */
async function originalRun(url, provider, session, notebook) {
  const runs = new RunRegistryClient(session);
  const client = session.requireSigner();
  const files = new Map([[basename(NOTEBOOK), readFileSync(NOTEBOOK)]]);
  files.set('requirements.txt', readFileSync(join(dirname(NOTEBOOK), 'requirements.txt')));
  const bundle = createBundle({ notebookPath: basename(NOTEBOOK), files });
  const secret = random32();
  const escrow = parseUnits('900', 18);
  const nonce = BigInt(random32()) & ((1n << 64n) - 1n);
  const opened = await runs.openRun({
    provider,
    bundleHash: bundle.bundleHash,
    nonce,
    samplingSecret: secret,
    escrow,
    pricePerHour: PRICE
  });
  const openedAt = new Date().toISOString();
  const agent = new AgentClient({ endpoint: url, signer: client });
  await agent.login();
  const t0 = performance.now();
  const created = await agent.createRun(opened.runId, bundle.bytes);
  await until(async () => (await agent.getRun(opened.runId)).state === 'running', 'the run');
  const base = `${url}/runs/${opened.runId}/jupyter/`;
  const manager = new KernelManager({
    serverSettings: nodeServerSettings(base, agent.token)
  });
  const saved = JSON.parse(JSON.stringify(notebook));
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  const t1 = performance.now();
  for (const cell of saved.cells.filter(c => c.cell_type === 'code')) {
    const collector = new OutputCollector();
    const future = kernel.requestExecute({ code: [cell.source].flat().join('') }, false, {
      cellId: cell.id,
      tags: cell.metadata.tags ?? []
    });
    future.onIOPub = msg => collector.iopub(msg);
    const reply = await future.done;
    collector.executeReply(reply.content);
    cell.outputs = collector.outputs;
    cell.execution_count = reply.content.execution_count ?? null;
  }
  const ms = { start: t1 - t0, cells: performance.now() - t1 };
  await kernel.shutdown();
  manager.dispose();
  await agent.stopRun(opened.runId);
  const receipts = await agent.receipts(opened.runId);
  await until(
    async () => (await runs.getRun(opened.runId)).receiptCount === receipts.length,
    'the last checkpoint'
  );
  // The client reveals its sampling secret after the last anchor; the sample then follows from the secret and
  // the hash of the block the reveal landed in.
  const reveal = await runs.revealSamplingSecret(opened.runId, secret);
  const codeCells = saved.cells.filter(c => c.cell_type === 'code');
  const evidence = emptyEvidence();
  evidence.runs.push({
    chainId: session.config.chainId,
    runRegistry: session.config.contracts.runRegistry,
    runId: opened.runId,
    provider,
    endpoint: url,
    bundleHash: bundle.bundleHash,
    notebookHash: notebookHash(notebook),
    escrow: escrow.toString(),
    pricePerHour: PRICE.toString(),
    openedAt,
    state: 'stopped',
    salt: created.salt,
    samplingSecret: secret,
    revealTx: reveal.hash
  });
  evidence.receipts = receipts.map((r, i) => ({
    runId: opened.runId,
    cellId: codeCells[i].id,
    signed: r.signed,
    digest: r.digest,
    artifacts: r.artifacts ?? []
  }));
  evidence.checkpoints = (await runs.checkpoints(opened.runId)).map(c => ({ ...c, runId: opened.runId }));
  saved.metadata.ain = evidence;
  return { runId: opened.runId, notebook: saved, evidence, agent, ms };
}

/** One verification in a fresh local kernel, timed from the executor's start to the report. */
async function timedVerification(dir, run, options) {
  const t0 = performance.now();
  const executor = await startLocalExecutor({
    notebook: NOTEBOOK,
    dataDir: dataDir(mkdtempSync(join(dir, `verifier-${options.level}-`)))
  });
  const t1 = performance.now();
  try {
    const source = new NodeEvidenceSource({ evidence: run.evidence, agent: run.agent });
    const report = await verifyNotebook(run.notebook, run.evidence, executor, source, options);
    const ms = { start: t1 - t0, cells: performance.now() - t1 };
    if (report.outcome !== 'verified') {
      throw new Error(`${options.level} verification did not verify: ${report.summary}`);
    }
    return { ms, report };
  } finally {
    await executor.dispose();
  }
}

/**
 * Detection over `TRIALS` simulated cheating runs of `cells` cells anchored every `every` receipts: each run
 * falsifies M = ceil(f * cells) cells, the verifier samples k checkpoints with the core plan (a fresh secret and
 * block hash each time), and detects the cheat when a sampled checkpoint holds a falsified cell (re-executing it
 * shows the difference, as the execution level does). `placement`: 'spread' falsifies cells chosen at random;
 * 'packed' fills whole checkpoints chosen at random, the cheat's best placement. Against the core's bound, which
 * holds for any placement (the packed rate should meet it, the spread rate lie above it).
 */
function detection(cells, every, f, k, placement = 'spread') {
  const anchored = [];
  for (let count = every, index = 0; count - every < cells; count += every, index++) {
    anchored.push({ index, root: random32(), receiptCount: Math.min(count, cells) });
  }
  const m = Math.ceil(f * cells);
  let detected = 0;
  let plan;
  for (let t = 0; t < TRIALS; t++) {
    const units = placement === 'packed' ? anchored.length : cells;
    const order = Array.from({ length: units }, (_, i) => i);
    for (let i = 0; i < units - 1; i++) {
      const j = i + (randomBytes(4).readUInt32BE() % (units - i));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const falsified = new Set(
      placement === 'packed'
        ? order
            .flatMap(c => Array.from({ length: every }, (_, i) => c * every + i).filter(s => s < cells))
            .slice(0, m)
        : order.slice(0, m)
    );
    plan = checkpointPlan({ anchored, secret: random32(), blockHash: random32(), samples: k });
    if (plan.steps.some(s => falsified.has(s))) {
      detected++;
    }
  }
  const predicted = checkpointSummary(plan, cells, f).probability;
  return {
    cells,
    every,
    n: anchored.length,
    f,
    m,
    k,
    placement,
    detected,
    rate: detected / TRIALS,
    predicted
  };
}

async function main() {
  // @jupyterlab/services logs every websocket start and kernel status with console.debug: not for the table.
  console.debug = () => undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ain-bench-verify-'));
  const chain = await startDevChain({ dataDir: join(dir, 'chain'), port: 0, fundAccounts: 3 });
  const providerAddress = new Wallet(devPrivateKey(1)).address;
  const session = await ChainSession.connect(chain.deployment, devKeyWallet(devPrivateKey(2)));
  const runs = new RunRegistryClient(session);
  const notebook = JSON.parse(readFileSync(NOTEBOOK, 'utf8'));
  let agentProcess;
  try {
    console.error('bench/verify: starting the provider (anchoring every receipt)');
    agentProcess = await startProvider([
      '--deployment', chain.deploymentFile, '--dev-account', '1', '--port', '0',
      '--data-dir', dataDir(join(dir, 'provider')), '--price', '3600', '--min-escrow-seconds', '5',
      '--checkpoint-receipts', '1', '--checkpoint-seconds', '0', '--log-level', 'warn'
    ]); // prettier-ignore
    // A first run warms the environment cache (and the OS's file cache) for everything measured after it.
    console.error('bench/verify: warm-up run (builds the environment on a first use of this machine)');
    await originalRun(agentProcess.url, providerAddress, session, notebook);
    // Rounds of (original run, then its three verifications), medians over rounds: the machine's load drifts.
    const measured = { original: [], execution: [], checkpoint: [], solution: [] };
    let run;
    let solution;
    const sampled = [];
    for (let round = 1; round <= ROUNDS; round++) {
      console.error(`bench/verify: round ${round} of ${ROUNDS}: original run, then its verifications`);
      run = await originalRun(agentProcess.url, providerAddress, session, notebook);
      measured.original.push(run.ms);
      const execution = await timedVerification(dir, run, { level: 'execution' });
      measured.execution.push(execution.ms);
      const sampling = await readCheckpointSampling(runs, run.runId, SAMPLES);
      const checkpoint = await timedVerification(dir, run, { level: 'checkpoint', sampling });
      measured.checkpoint.push(checkpoint.ms);
      sampled.push(checkpoint.report.checkpoint);
      solution = await timedVerification(dir, run, { level: 'solution' });
      measured.solution.push(solution.ms);
    }
    const med = list => ({ start: median(list.map(m => m.start)), cells: median(list.map(m => m.cells)) });
    const cp = sampled[0];
    const rows = [
      ['original run on the provider (warm environment)', med(measured.original)],
      [
        `execution verification (local kernel; all ${cp.cellsTotal} cells re-executed and compared)`,
        med(measured.execution)
      ],
      [
        `checkpoint verification (k = ${SAMPLES} of ${cp.anchoredCount} checkpoints, one per cell; sampled: ${sampled.map(c => c.sampledIndexes.join('+')).join(', ')})`,
        med(measured.checkpoint)
      ],
      [
        'solution verification (local kernel; model fetched by sha256, objective cell only)',
        med(measured.solution)
      ]
    ];
    // start: upload to kernel ready (provider) or executor start (verifier: environment check, server, kernel);
    // work: the cells (provider) or verifyNotebook (re-execution, downloads, comparison).
    const total = ms => ms.start + ms.cells;
    const base = rows[0][1];
    console.log(
      `| measure (median of ${ROUNDS}) | start, s | work, s | total, s | ratio (total) | ratio (work) |`
    );
    console.log('|---|---|---|---|---|---|');
    for (const [what, ms] of rows) {
      const cells = [ms.start, ms.cells, total(ms)].map(x => seconds(x).toFixed(2));
      const ratios = [total(ms) / total(base), ms.cells / base.cells].map(x => x.toFixed(2));
      console.log(`| ${what} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
    }
    const metric = solution.report.steps[0].objective;
    console.log(
      `(objective: claimed ${metric.claimed}, recomputed ${metric.recomputed}; a checkpoint sample: ${cp.statement})`
    );
    console.log('');
    const trials = [
      detection(run.evidence.receipts.length, 1, 0.3, SAMPLES),
      detection(run.evidence.receipts.length, 1, 0.5, 1),
      ...['spread', 'packed'].flatMap(placement => [
        detection(100, 5, 0.1, 5, placement),
        detection(100, 5, 0.3, 3, placement),
        detection(1000, 10, 0.01, 20, placement)
      ])
    ];
    console.log(
      `| cheating runs (${TRIALS} each) | cells (every k receipts anchored) | checkpoints n | falsified | placement | sampled | detected | measured rate | bound | 95% band of the bound |`
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const t of trials) {
      const band = 1.96 * Math.sqrt((t.predicted * (1 - t.predicted)) / TRIALS);
      const label = t.cells === run.evidence.receipts.length ? 'training example' : 'larger run';
      console.log(
        `| ${label} | ${t.cells} (${t.every}) | ${t.n} | ${t.m} (f = ${t.f}) | ${t.placement} | ${t.k} | ${t.detected} | ${t.rate.toFixed(3)} | ${t.predicted.toFixed(3)} | ${Math.max(0, t.predicted - band).toFixed(3)}-${Math.min(1, t.predicted + band).toFixed(3)} |`
      );
    }
  } finally {
    await agentProcess?.stop();
    session.close();
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  e => {
    console.error(e);
    process.exit(1);
  }
);
