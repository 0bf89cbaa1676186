#!/usr/bin/env node
// Gas table of issue 3: each contract function on a real anvil, and checkpoint anchoring next to one transaction
// per cell. Node + ethers over contracts/build and lib-node (run `npm run build` first).
// Usage: node bench/chain/run.js
'use strict';
const path = require('node:path');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const {
  AbiCoder,
  ContractFactory,

  HDNodeWallet,
  JsonRpcProvider,

  Wallet,
  getCreateAddress,
  keccak256,
  parseUnits,
  toUtf8Bytes,
  ZeroHash
} = require('ethers');

const BUILD = path.join(__dirname, '..', '..', 'contracts', 'build');
const artifact = name => require(path.join(BUILD, `${name}.json`));
const T = n => parseUnits(String(n), 18);
const h = s => keccak256(toUtf8Bytes(s));
// The receipt and attestation types come from the project's own code (npm run build:lib), so the bench signs
// exactly what the agent and the verifiers sign.
const { STEP_RECEIPT_TYPES: TYPES } = require('../../lib-node/core/receipt.js');
const { ATTESTATION_TYPES: ATTEST } = require('../../lib-node/chain/attestation.js');
const { startAnvil } = require('../../lib-node/chain/anvil-node.js');

async function main() {
  const anvil = await startAnvil({ port: 0 });
  // cacheTimeout -1: tx.wait() can hang on a stale cached null receipt against automining anvil (FIELD-NOTES).
  const rpc = new JsonRpcProvider(anvil.rpcUrl, 31337, {
    cacheTimeout: -1,
    batchMaxCount: 1,
    staticNetwork: true
  });
  const key = i =>
    HDNodeWallet.fromPhrase(
      'test test test test test test test test test test test junk',
      undefined,
      `m/44'/60'/0'/0/${i}`
    ).privateKey;
  const [deployer, provider, client, challenger, verifier] = [0, 1, 2, 3, 4].map(
    i => new Wallet(key(i), rpc)
  );
  const rows = [];
  const gas = async (label, txp, note = '') => {
    const r = await (await txp).wait();
    rows.push([label, Number(r.gasUsed), note]);
    return r;
  };
  const deploy = async (name, args) => {
    const a = artifact(name);
    const c = await new ContractFactory(a.abi, a.bytecode, deployer).deploy(...args);
    await c.waitForDeployment();
    return c;
  };
  try {
    const token = await deploy('TestAIN', []);
    const nonce = await rpc.getTransactionCount(deployer.address);
    const reg = await deploy('ProviderRegistry', [
      await token.getAddress(),
      T(100),
      7 * 86400,
      getCreateAddress({ from: deployer.address, nonce: nonce + 1 })
    ]);
    const runs = await deploy('RunRegistry', [await reg.getAddress(), 86400, T(100), 5000]);
    const domain = {
      name: 'AIN Run Registry',
      version: '1',
      chainId: 31337,
      verifyingContract: await runs.getAddress()
    };
    for (const w of [provider, client]) {
      await (await token.faucet(w.address, T(100000))).wait();
    }
    await (await token.connect(provider).approve(await reg.getAddress(), T(1000))).wait();
    await (await token.connect(client).approve(await runs.getAddress(), T(100000))).wait();
    await gas(
      'register (endpoint, price, capabilities, stake)',
      reg.connect(provider).register('http://127.0.0.1:9000', T(1), h('caps'), 'ipfs://caps', T(1000))
    );

    let n = 0;
    const open = async label => {
      const id = await runs.computeRunId(client.address, provider.address, ++n, h('bundle'));
      const p = runs
        .connect(client)
        .openRun(
          provider.address,
          h('bundle'),
          n,
          keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32'], [h('secret')])),
          T(10),
          T(1)
        );
      if (label) {
        await gas(label, p);
      } else {
        await (await p).wait();
      }
      return id;
    };
    const tree = (runId, count, tag = '') => {
      const digests = Array.from({ length: count }, (_, i) => h(`${tag}${runId}${i}`));
      return {
        digests,
        t: StandardMerkleTree.of(
          digests.map((d, i) => [i, d]),
          ['uint32', 'bytes32'],
          { sortLeaves: false }
        )
      };
    };
    const runA = await open('openRun (escrow, run id, secret commitment)');
    const runB = await open();
    const a10 = tree(runA, 10);
    const b10k = tree(runB, 10000);
    await gas(
      'anchor: first checkpoint over 10 receipts',
      runs.connect(provider).anchor(runA, 0, a10.t.root, 10)
    );
    await gas(
      'anchor: first checkpoint over 10,000 receipts',
      runs.connect(provider).anchor(runB, 0, b10k.t.root, 10000)
    );
    await gas(
      'anchor: next checkpoint, 10 -> 20 receipts',
      runs.connect(provider).anchor(runA, 1, tree(runA, 20).t.root, 20)
    );
    await gas(
      'anchor: next checkpoint, 10,000 -> 20,000 receipts',
      runs.connect(provider).anchor(runB, 1, tree(runB, 20000).t.root, 20000)
    );

    const att = { runId: runA, verdict: 1, receiptCount: 20, resultRoot: h('verifier root'), score: 0 };
    await gas(
      'attest (verifier signature, relayed)',
      runs.connect(challenger).attest(att, await verifier.signTypedData(domain, ATTEST, att))
    );
    await gas('revealSamplingSecret', runs.connect(client).revealSamplingSecret(runA, h('secret')));
    await gas('closeRun', runs.connect(client).closeRun(runA));
    await rpc.send('evm_increaseTime', [86400]);
    await gas('settle (pay provider, refund client)', runs.connect(challenger).settle(runA));

    // Equivocation: two signed receipts for step 0.
    const runC = await open();
    const r0 = {
      runId: runC,
      step: 0,
      prev: ZeroHash,
      codeHash: h('c'),
      outputHash: h('o1'),
      artifactsHash: ZeroHash,
      startedAt: 1,
      endedAt: 2
    };
    const r1 = { ...r0, outputHash: h('o2') };
    await gas(
      'challengeEquivocation (slash, refund, reward)',
      runs
        .connect(challenger)
        .challengeEquivocation(
          r0,
          await provider.signTypedData(domain, TYPES, r0),
          r1,
          await provider.signTypedData(domain, TYPES, r1)
        )
    );

    // Inclusion contradiction against checkpoint 0 of 2, trees of 1,000 receipts.
    const runD = await open();
    const signed = {
      runId: runD,
      step: 500,
      prev: h('p'),
      codeHash: h('c'),
      outputHash: h('o'),
      artifactsHash: ZeroHash,
      startedAt: 1,
      endedAt: 2
    };
    const t0 = tree(runD, 1000, 'x');
    const t1 = tree(runD, 2000, 'y');
    await (await runs.connect(provider).anchor(runD, 0, t0.t.root, 1000)).wait();
    await (await runs.connect(provider).anchor(runD, 1, t1.t.root, 2000)).wait();
    const ev = {
      anchoredDigest: t0.digests[500],
      proof: t0.t.getProof(500),
      accBefore: runD,
      history: [
        { root: t0.t.root, receiptCount: 1000 },
        { root: t1.t.root, receiptCount: 2000 }
      ]
    };
    await gas(
      'challengeInclusion (1,000-leaf proof, checkpoint 0 of 2)',
      runs
        .connect(challenger)
        .challengeInclusion(signed, await provider.signTypedData(domain, TYPES, signed), ev)
    );

    // One transaction per cell: anchoring after every cell instead of per checkpoint.
    const perCell = [];
    for (const cells of [10, 100, 1000]) {
      const run = await open();
      let total = 0;
      for (let i = 0; i < cells; i++) {
        const r = await (await runs.connect(provider).anchor(run, i, h(`${run}${i}`), i + 1)).wait();
        total += Number(r.gasUsed);
      }
      perCell.push([cells, total]);
    }

    const w = Math.max(...rows.map(r => r[0].length));
    console.log(`\nGas on anvil 1.7.1, solc 0.8.28 (optimizer 200, cancun)\n`);
    console.log(`${'operation'.padEnd(w)}  ${'gas'.padStart(9)}`);
    console.log(`${'-'.repeat(w)}  ${'-'.repeat(9)}`);
    for (const [label, g] of rows) {
      console.log(`${label.padEnd(w)}  ${g.toLocaleString('en-US').padStart(9)}`);
    }
    const first = rows.find(r => r[0].startsWith('anchor: first checkpoint over 10 '))[1];
    console.log(
      `\n${'cells'.padStart(6)}  ${'one tx per cell'.padStart(16)}  ${'one checkpoint'.padStart(15)}  ratio`
    );
    for (const [cells, total] of perCell) {
      console.log(
        `${String(cells).padStart(6)}  ${total.toLocaleString('en-US').padStart(16)}  ${first.toLocaleString('en-US').padStart(15)}  ${(total / first).toFixed(1)}x`
      );
    }
  } finally {
    rpc.destroy();
    await anvil.stop();
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
