#!/usr/bin/env node
// Benchmark of issue 5 (the evidence side of the extension), in Debian's chromium against real JupyterLab servers:
//  1. re-check of a 1,000-cell notebook's evidence in the verification worker (signatures, receipt chain, Merkle
//     proofs under the root anchored on a real anvil chain): time, and the longest main-thread task meanwhile;
//  2. JupyterLab start (navigation to app.restored) with the extension vs without it, alternating, in one run;
//  3. the extension's bundle size (raw and gzip), the worker chunk apart.
// Needs `npm run build` first. Usage: node bench/lab/run.js [--rounds 5]
'use strict';
/* global window, document */ // used inside page.evaluate callbacks, which run in the browser
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { chromium } = require('@playwright/test');
const { SigningKey, parseUnits } = require('ethers');
const { ZERO_HASH, sha256 } = require('../../lib-node/core/hash.js');
const { ReceiptTree } = require('../../lib-node/core/merkle.js');
const { codeHash } = require('../../lib-node/core/notebook.js');
const { receiptDigest, signReceipt } = require('../../lib-node/core/receipt.js');
const { devPrivateKey, startDevChain } = require('../../lib-node/chain/dev-chain.js');
const { ProviderRegistryClient } = require('../../lib-node/chain/provider-registry.js');
const { RunRegistryClient } = require('../../lib-node/chain/run-registry.js');
const { ChainSession } = require('../../lib-node/chain/session.js');
const { devKeyWallet } = require('../../lib-node/chain/wallet.js');

const ROOT = path.join(__dirname, '..', '..');
const CELLS = 1000;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ain-bench-lab-'));
  const chain = await startDevChain({ dataDir: path.join(tmp, 'chain'), port: 0, fundAccounts: 3 });
  const servers = [];
  let browser;
  try {
    const notebook = await anchoredNotebook(chain);
    const withExt = await startLab(tmp, 'with', 0);
    servers.push(withExt);
    const without = await startLab(tmp, 'without', 1);
    servers.push(without);
    browser = await chromium.launch({
      executablePath: process.env.AIN_CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking']
    });

    const start = await startTimes(browser, withExt, without);
    const verify = await verifyInWorker(browser, withExt, chain, notebook);
    const bundle = bundleSize();
    const report = { cells: CELLS, verify, start, bundle };
    console.log(JSON.stringify(report, null, 2));
    console.log(
      `\nre-check of ${CELLS} receipts in the worker: median ${verify.workerMs} ms in the worker, ` +
        `${verify.wallMs} ms end to end; longest main-thread task ${verify.longestTaskMs} ms (goal < 50)\n` +
        `JupyterLab start, median of ${rounds}: ${start.withMs} ms with the extension, ${start.withoutMs} ms without: ` +
        `ratio ${start.ratio} (goal <= 1.05)\n` +
        `bundle: ${kib(bundle.totalBytes)} KiB (${kib(bundle.totalGzip)} KiB gzip), of which the worker's entry chunk ` +
        `${kib(bundle.workerBytes)} KiB (${kib(bundle.workerGzip)} KiB gzip; its libraries come from shared chunks)`
    );
  } finally {
    await browser?.close();
    for (const s of servers) {
      s.child.kill('SIGTERM');
    }
    await chain.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const kib = n => (n / 1024).toFixed(1);

/** A run opened on the chain, 1,000 receipts signed by the provider, their root anchored: the notebook. */
async function anchoredNotebook(chain) {
  const provider = await ChainSession.connect(chain.deployment, devKeyWallet(devPrivateKey(1)));
  const client = await ChainSession.connect(chain.deployment, devKeyWallet(devPrivateKey(2)));
  try {
    const registry = new ProviderRegistryClient(provider);
    const price = parseUnits('1', 18);
    const offer = {
      endpoint: 'http://127.0.0.1:1',
      pricePerHour: price,
      capabilitiesHash: ZERO_HASH,
      capabilitiesURI: ''
    };
    await registry.register(offer, await registry.minStake());
    const { runId } = await new RunRegistryClient(client).openRun({
      provider: await provider.address(),
      bundleHash: sha256('bench'),
      nonce: 1n,
      samplingSecret: sha256('secret'),
      escrow: parseUnits('10', 18),
      pricePerHour: price
    });
    const domain = {
      chainId: chain.deployment.chainId,
      verifyingContract: chain.deployment.contracts.runRegistry
    };
    const key = new SigningKey(devPrivateKey(1));
    const sources = Array.from({ length: CELLS }, (_, i) => `x${i} = ${i} ** 2`);
    const receipts = [];
    let prev = ZERO_HASH;
    for (const [step, source] of sources.entries()) {
      const receipt = {
        runId,
        step,
        prev,
        codeHash: codeHash(source),
        outputHash: sha256(`output ${step}`),
        artifactsHash: ZERO_HASH,
        startedAt: 1_764_000_000_000 + step,
        endedAt: 1_764_000_000_000 + step
      };
      const digest = receiptDigest(receipt, domain);
      receipts.push({ runId, cellId: `c${step}`, signed: signReceipt(receipt, domain, key), digest });
      prev = digest;
    }
    const checkpoint = new ReceiptTree(receipts.map(r => r.digest)).checkpoint(0);
    const tx = await new RunRegistryClient(provider).anchor(runId, checkpoint);
    return {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
        ain: {
          version: 1,
          runs: [
            {
              chainId: domain.chainId,
              runRegistry: domain.verifyingContract,
              runId,
              provider: await provider.address(),
              endpoint: offer.endpoint,
              bundleHash: sha256('bench'),
              notebookHash: sha256('bench notebook'),
              escrow: parseUnits('10', 18).toString(),
              pricePerHour: price.toString(),
              openedAt: new Date().toISOString(),
              state: 'stopped'
            }
          ],
          receipts,
          checkpoints: [{ ...checkpoint, runId, txHash: tx.hash, blockNumber: tx.blockNumber }],
          verifications: []
        }
      },
      cells: sources.map((source, i) => ({
        cell_type: 'code',
        id: `c${i}`,
        metadata: {},
        source,
        outputs: [],
        execution_count: null
      }))
    };
  } finally {
    provider.close();
    client.close();
  }
}

/** A JupyterLab server; "without" disables this extension through page_config.json in its own config folder. */
async function startLab(tmp, name, offset) {
  const port = 8970 + offset;
  const root = path.join(tmp, `root-${name}`);
  const config = path.join(tmp, `config-${name}`);
  fs.mkdirSync(path.join(config, 'labconfig'), { recursive: true });
  fs.mkdirSync(root, { recursive: true });
  if (name === 'without') {
    fs.writeFileSync(
      path.join(config, 'labconfig', 'page_config.json'),
      JSON.stringify({ disabledExtensions: { 'jupyterlab-ain': true } })
    );
  }
  const args = [
    'lab',
    `--port=${port}`,
    '--no-browser',
    `--ServerApp.root_dir=${root}`,
    '--config',
    path.join(ROOT, 'tests', 'ui', 'jupyter_server_test_config.py')
  ];
  if (process.getuid?.() === 0) {
    args.push('--allow-root');
  }
  const child = spawn(path.join(ROOT, '.venv', 'bin', 'jupyter'), args, {
    env: { ...process.env, JUPYTER_CONFIG_DIR: config },
    stdio: ['ignore', 'ignore', 'pipe']
  });
  let log = '';
  child.stderr.on('data', d => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}/api/status`)).ok) {
        return { name, url, child, root };
      }
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) {
      throw new Error(`jupyter lab (${name}) exited: ${log}`);
    }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`jupyter lab (${name}) did not start: ${log}`);
}

/** Navigation start to app.restored, in a fresh context each time, alternating which server goes first. */
async function startTimes(browser, withExt, without) {
  const times = { with: [], without: [] };
  const once = async server => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/lab?reset`);
    await page.waitForFunction(() => window.jupyterapp, null, { timeout: 60000 });
    const ms = await page.evaluate(async () => {
      await window.jupyterapp.restored;
      return performance.now();
    });
    const active = await page.evaluate(() => window.jupyterapp.hasPlugin('jupyterlab-ain:evidence'));
    await context.close();
    if (active !== (server === withExt)) {
      throw new Error(`The extension is ${active ? '' : 'not '}loaded in the "${server.name}" server.`);
    }
    return ms;
  };
  await once(withExt);
  await once(without);
  for (let i = 0; i < rounds; i++) {
    for (const s of i % 2 ? [without, withExt] : [withExt, without]) {
      times[s.name].push(await once(s));
    }
  }
  const withMs = Math.round(median(times.with));
  const withoutMs = Math.round(median(times.without));
  return { withMs, withoutMs, ratio: Number((withMs / withoutMs).toFixed(3)), samples: times };
}

/** Opens the 1,000-cell notebook and times re-checks of its evidence in the worker. */
async function verifyInWorker(browser, server, chain, notebook) {
  const put = (url, body) =>
    fetch(url, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    });
  // No run-pipeline chain settings here: the evidence plugin reads the bench chain through its own RPC setting.
  await put(`${server.url}/lab/api/settings/jupyterlab-ain:evidence`, {
    raw: JSON.stringify({ rpcUrl: chain.rpcUrl })
  });
  await put(`${server.url}/api/contents/thousand.ipynb`, {
    type: 'notebook',
    format: 'json',
    content: notebook
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  let workerUrl = '';
  page.on('worker', w => (workerUrl = w.url()));
  await page.goto(`${server.url}/lab/tree/thousand.ipynb?reset`);
  await page.waitForFunction(
    n => document.querySelectorAll('.jp-AinCellBadge-anchored').length === n,
    CELLS,
    {
      timeout: 180000
    }
  );
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(
      await page.evaluate(async () => {
        const app = window.jupyterapp;
        const path = app.shell.currentWidget.context.path;
        const tasks = [];
        const observer = new PerformanceObserver(list =>
          list.getEntries().forEach(e => tasks.push(e.duration))
        );
        observer.observe({ type: 'longtask', buffered: false });
        await new Promise(r => setTimeout(r, 1000));
        const idle = tasks.splice(0);
        const t0 = performance.now();
        const result = await app.commands.execute('ain:recheck-evidence', { path });
        const wallMs = performance.now() - t0;
        await new Promise(r => setTimeout(r, 1500));
        observer.disconnect();
        return {
          wallMs,
          workerMs: result.ms,
          anchored: result.receipts.filter(c => c.anchored).length,
          longest: Math.max(0, ...tasks),
          idleLongest: Math.max(0, ...idle)
        };
      })
    );
  }
  await context.close();
  if (runs.some(r => r.anchored !== CELLS)) {
    throw new Error(`Not every receipt was proven: ${JSON.stringify(runs)}`);
  }
  return {
    worker: path.basename(new URL(workerUrl).pathname),
    workerMs: median(runs.map(r => r.workerMs)),
    wallMs: Math.round(median(runs.map(r => r.wallMs))),
    longestTaskMs: Math.round(Math.max(...runs.map(r => r.longest))),
    idleLongestTaskMs: Math.round(Math.max(...runs.map(r => r.idleLongest))),
    runs
  };
}

/** The prebuilt extension's JavaScript, raw and gzip. */
function bundleSize() {
  const dir = path.join(ROOT, 'jupyterlab_ain', 'labextension', 'static');
  let totalBytes = 0;
  let totalGzip = 0;
  let workerBytes = 0;
  let workerGzip = 0;
  for (const file of fs.readdirSync(dir).filter(f => f.endsWith('.js'))) {
    const bytes = fs.readFileSync(path.join(dir, file));
    const gz = zlib.gzipSync(bytes, { level: 9 }).length;
    totalBytes += bytes.length;
    totalGzip += gz;
    if (file.startsWith('jupyterlab-ain-verify')) {
      workerBytes += bytes.length;
      workerGzip += gz;
    }
  }
  return { totalBytes, totalGzip, workerBytes, workerGzip };
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
