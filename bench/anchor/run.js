#!/usr/bin/env node
// bench/anchor: how fast one provider key lands checkpoints of many runs at once (the agent's anchor queue sends
// one checkpoint of every run side by side). Real anvil; an HTTP relay in front of it adds a fixed delay to every
// JSON-RPC request, standing for a remote endpoint (a hosted RPC answers in tens of milliseconds) or a loaded
// machine. Per delay, in the same run:
// - stock: an ethers Wallet whose sends take turns (each reads the pending nonce, so overlapping sends would
//   collide), mining waits overlapped: what the agent did before;
// - ours: the project's ChainSession over a local key (OrderedSigner: gas and fees read side by side, only the
//   nonce, signature and broadcast take turns).
// Needs `npm run build:lib`. Usage: node bench/anchor/run.js   (BENCH_RUNS=40, BENCH_DELAYS=0,20,50)
'use strict';
const http = require('node:http');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { Contract, Wallet, keccak256, parseUnits, toUtf8Bytes } = require('ethers');
const lib = p => require(path.join(__dirname, '..', '..', 'lib-node', p));
const { startDevChain, devPrivateKey } = lib('chain/dev-chain.js');
const { ChainSession } = lib('chain/session.js');
const { devKeyWallet } = lib('chain/wallet.js');
const { RunRegistryClient } = lib('chain/run-registry.js');
const { ProviderRegistryClient } = lib('chain/provider-registry.js');
const { RUN_REGISTRY_ABI } = lib('chain/abi.js');
const { jsonRpcProvider } = lib('chain/rpc.js');

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const DELAYS = (process.env.BENCH_DELAYS ?? '0,20,50').split(',').map(Number);
const T = n => parseUnits(String(n), 18);
const h = s => keccak256(toUtf8Bytes(s));

/** An HTTP relay to `target` that holds every request `delayMs` before passing it on. */
function delayingRelay(target, delayMs) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () =>
      setTimeout(() => {
        const out = http.request(target, { method: 'POST', headers: req.headers }, answer => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        });
        out.on('error', e => res.destroy(e));
        out.end(Buffer.concat(chunks));
      }, delayMs)
    );
  });
  return new Promise(resolve =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() })
    )
  );
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'ain-bench-anchor-'));
  const chain = await startDevChain({ dataDir: dir, port: 0 });
  const config = chain.deployment;
  const providerKey = devPrivateKey(1);
  const providerSession = await ChainSession.connect(config, devKeyWallet(providerKey));
  const client = await ChainSession.connect(config, devKeyWallet(devPrivateKey(2)));
  const rows = [];
  try {
    await new ProviderRegistryClient(providerSession).register(
      {
        endpoint: 'http://bench',
        pricePerHour: T(1),
        capabilitiesHash: h('caps'),
        capabilitiesURI: 'http://bench'
      },
      T(100)
    );
    const runs = new RunRegistryClient(client);
    const ids = [];
    for (let i = 0; i < RUNS; i++) {
      const opened = await runs.openRun({
        provider: await providerSession.address(),
        bundleHash: h('bundle'),
        nonce: BigInt(i + 1),
        samplingSecret: h('secret'),
        escrow: T(1),
        pricePerHour: T(1)
      });
      ids.push(opened.runId);
    }
    // Every trial anchors the next checkpoint of every run.
    let index = 0;
    const checkpoint = id => ({ index, root: h(`${id}:${index}`), receiptCount: 10 * (index + 1) });

    for (const delay of DELAYS) {
      const relay = await delayingRelay(chain.rpcUrl, delay);
      const viaRelay = { ...config, rpcUrl: relay.url };
      try {
        // stock
        const rpc = jsonRpcProvider(relay.url, config.chainId);
        const contract = new Contract(
          config.contracts.runRegistry,
          RUN_REGISTRY_ABI,
          new Wallet(providerKey, rpc)
        );
        let started = performance.now();
        const mined = [];
        for (const id of ids) {
          const c = checkpoint(id);
          const tx = await contract.anchor(id, c.index, c.root, c.receiptCount);
          mined.push(tx.wait());
        }
        await Promise.all(mined);
        const stock = (performance.now() - started) / 1000;
        rpc.destroy();
        index++;

        // ours
        const session = await ChainSession.connect(viaRelay, devKeyWallet(providerKey));
        const registry = new RunRegistryClient(session);
        started = performance.now();
        await Promise.all(ids.map(id => registry.anchor(id, checkpoint(id))));
        const ours = (performance.now() - started) / 1000;
        session.close();
        index++;
        rows.push({ delay, stock, ours });
        console.error(
          `[bench] RPC delay ${delay} ms: stock ${stock.toFixed(2)} s, ours ${ours.toFixed(2)} s`
        );
      } finally {
        relay.close();
      }
    }
  } finally {
    providerSession.close();
    client.close();
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `\nAnchoring ${RUNS} checkpoints (one per run) with one provider key, anvil behind a delaying relay\n`
  );
  console.log(
    '| RPC delay ms | stock s | stock anchors/s | ours s | ours anchors/s | ratio time (ours/stock) |'
  );
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.delay} | ${r.stock.toFixed(2)} | ${(RUNS / r.stock).toFixed(1)} | ${r.ours.toFixed(2)} | ` +
        `${(RUNS / r.ours).toFixed(1)} | ${(r.ours / r.stock).toFixed(2)} |`
    );
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
