#!/usr/bin/env node
// bench/core: the core's hot paths against a stock baseline measured in the same run (absolute times on these
// machines are noisy; ratios are what to compare). Needs `npm run build:lib`. Usage: node bench/core/run.js
'use strict';
const { createHash } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { SigningKey, Wallet, TypedDataEncoder } = require('ethers');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const core = require('../../lib-node/core/index.js');

/** Median wall time in ms of `fn` over `runs` runs, after one warm-up. */
function median(fn, runs = 7) {
  fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// A notebook's worth of realistic outputs: 1 KiB of printed text with numbers, a timestamp, an address and ANSI
// colour, plus a repr result per cell.
function makeOutputs(cells) {
  const all = [];
  for (let i = 0; i < cells; i++) {
    let text = `\u001b[32mepoch ${i}\u001b[0m at 2026-11-25T18:03:21.${String(i % 1000).padStart(3, '0')}Z <obj at 0x7f3a${(
      0x10000 + i
    ).toString(16)}>\n`;
    while (text.length < 1024) {
      text += `loss=${(1 / (i + 1)).toFixed(8)} acc=${(i / (cells + 1)).toFixed(6)} step=${text.length}\n`;
    }
    all.push([
      { output_type: 'stream', name: 'stdout', text },
      {
        output_type: 'execute_result',
        execution_count: i,
        metadata: {},
        data: { 'text/plain': `array([${i}., ${i * 0.5}])` }
      }
    ]);
  }
  return all;
}

const rows = [];
function row(what, ours, stock, unit) {
  rows.push({ what, ours, stock, unit, ratio: stock === null ? null : ours / stock });
}

// 1. Salted output hash (normalize + canonical JSON + SHA-256) vs Node's SHA-256 over the same raw bytes.
const outputs = makeOutputs(1000);
const raw = outputs.map(o => Buffer.from(JSON.stringify(o)));
const megabytes = raw.reduce((n, b) => n + b.length, 0) / 1e6;
const salt = core.sha256('bench salt');
const tOurs = median(() => outputs.forEach(o => core.outputHash(o, salt)));
const tStock = median(() => raw.forEach(b => createHash('sha256').update(salt).update(b).digest()));
row('output hash, 1,000 cells x 1 KiB (MB/s)', megabytes / (tOurs / 1e3), megabytes / (tStock / 1e3), 'MB/s');
// Where the time goes: normalization + canonical JSON alone, and the portable (pure JS) SHA-256 alone.
const normalized = outputs.map(o => core.normalizedOutputsBytes(o));
const tNormalize = median(() => outputs.forEach(o => core.normalizedOutputsBytes(o)));
row('  of which normalize + JCS (MB/s)', megabytes / (tNormalize / 1e3), megabytes / (tStock / 1e3), 'MB/s');
const tPortableSha = median(() => normalized.forEach(b => core.sha256(b)));
const tNativeSha = median(() => normalized.forEach(b => createHash('sha256').update(b).digest()));
const normalizedMb = normalized.reduce((n, b) => n + b.length, 0) / 1e6;
row(
  '  of which SHA-256, portable vs node:crypto (MB/s)',
  normalizedMb / (tPortableSha / 1e3),
  normalizedMb / (tNativeSha / 1e3),
  'MB/s'
);

// 2. Receipts: our synchronous signing and recovery vs ethers' stock Wallet.signTypedData / verifyTypedData.
const key = new SigningKey('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const wallet = new Wallet(key);
const domain = { chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const receipts = Array.from({ length: 300 }, (_, step) => ({
  runId: salt,
  step,
  prev: core.ZERO_HASH,
  codeHash: core.sha256(`code ${step}`),
  outputHash: core.sha256(`out ${step}`),
  artifactsHash: core.ZERO_HASH,
  startedAt: 1764000000000 + step,
  endedAt: 1764000000100 + step
}));
let signed = [];
const tSign = median(() => {
  signed = receipts.map(r => core.signReceipt(r, domain, key));
}, 5);
const fullDomain = core.receiptDomain(domain);
const tSignStock = median(() => {
  receipts.forEach(r => key.sign(TypedDataEncoder.hash(fullDomain, core.STEP_RECEIPT_TYPES, r)));
}, 5);
row(
  'receipts signed per second',
  receipts.length / (tSign / 1e3),
  receipts.length / (tSignStock / 1e3),
  '/s'
);
const tVerify = median(() => signed.forEach(s => core.verifyReceipt(s, domain, wallet.address)), 5);
const tVerifyStock = median(
  () =>
    signed.forEach(s =>
      require('ethers').verifyTypedData(fullDomain, core.STEP_RECEIPT_TYPES, s.receipt, s.signature)
    ),
  5
);
row(
  'receipts verified per second',
  receipts.length / (tVerify / 1e3),
  receipts.length / (tVerifyStock / 1e3),
  '/s'
);

// 3. Merkle checkpoint over 10,000 receipts vs the library's default (sorted) tree over the same leaves.
const digests = Array.from({ length: 10000 }, (_, i) => core.sha256(`receipt ${i}`));
const tTree = median(() => new core.ReceiptTree(digests), 3);
const tTreeStock = median(
  () =>
    StandardMerkleTree.of(
      digests.map((d, i) => [i, d]),
      ['uint32', 'bytes32']
    ),
  3
);
row('Merkle build, 10,000 leaves (ms)', tTree, tTreeStock, 'ms');
const tree = new core.ReceiptTree(digests);
const tProof = median(() => {
  for (let s = 0; s < 100; s++) {
    core.verifyReceiptProof(tree.root, s, digests[s], tree.proof(s));
  }
}, 3);
row('Merkle proof + verify, per step (ms)', tProof / 100, null, 'ms');

const fmt = n => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(4));
console.log(
  'bench/core (median of repeated runs; ratio = ours / stock in the same run: above 1 is better for MB/s and /s, below 1 is better for ms)\n'
);
console.log('| measure | ours | stock baseline | ratio |');
console.log('|---|---:|---:|---:|');
for (const r of rows) {
  const stock = r.stock === null ? '—' : fmt(r.stock);
  console.log(`| ${r.what} | ${fmt(r.ours)} | ${stock} | ${r.ratio === null ? '—' : r.ratio.toFixed(2)} |`);
}
console.log(
  '\nstock baselines: node:crypto SHA-256 over the raw output JSON; ethers TypedDataEncoder.hash + SigningKey.sign;' +
    ' ethers verifyTypedData; StandardMerkleTree.of with its default leaf sorting.'
);
