#!/usr/bin/env node
// Writes the receipt and Merkle vectors of tests/vectors from the compiled core (lib-node). Run it only when a
// format changes ON PURPOSE: the vectors pin the bytes that the TypeScript code and the Solidity contracts must
// both reproduce, so regenerating them silently would hide a breaking change. Usage: npm run build:lib &&
// node scripts/generate-vectors.js
const fs = require('node:fs');
const path = require('node:path');
const { SigningKey, Wallet, TypedDataEncoder } = require('ethers');
const core = require('../lib-node/core/index.js');

const out = path.join(__dirname, '..', 'tests', 'vectors');
// anvil's first development key: public knowledge, never holds value.
const TEST_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
// The RunRegistry address of a fresh `ain chain` deployment (deployer = anvil account 0, third contract).
const domain = { chainId: 31337, verifyingContract: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0' };
const key = new SigningKey(TEST_KEY);
const h = text => core.sha256(text);

const runId = h('vector run 1');
const salt = h('vector salt 1');
const cells = [
  {
    code: 'import math\nprint(math.pi)',
    outputs: [{ output_type: 'stream', name: 'stdout', text: '3.141592653589793\n' }]
  },
  {
    code: 'x = 6 * 7\nx',
    outputs: [
      { output_type: 'execute_result', execution_count: 2, metadata: {}, data: { 'text/plain': '42' } }
    ]
  },
  { code: 'open("outputs/model.txt", "w").write("w=1")', outputs: [] }
];
const receipts = [];
let prev = core.ZERO_HASH;
cells.forEach((cell, step) => {
  const receipt = {
    runId,
    step,
    prev,
    codeHash: core.codeHash(cell.code),
    outputHash: core.outputHash(cell.outputs, salt),
    artifactsHash:
      step === 2
        ? core.artifactsHash([{ path: 'outputs/model.txt', size: 3, sha256: h('w=1') }])
        : core.ZERO_HASH,
    startedAt: 1764000000000 + step * 1000,
    endedAt: 1764000000000 + step * 1000 + 250
  };
  const digest = core.receiptDigest(receipt, domain);
  receipts.push({
    cell,
    receipt,
    structHash: core.receiptStructHash(receipt),
    digest,
    signature: core.signReceipt(receipt, domain, key).signature
  });
  prev = digest;
});
const otherDomain = { chainId: 1, verifyingContract: domain.verifyingContract };
const vectors = {
  description:
    'EIP-712 StepReceipt vectors. Signed with anvil development key 0 (public, test only). Every implementation (src/core, contracts/) must reproduce structHash, digest and signature.',
  key: TEST_KEY,
  signer: new Wallet(TEST_KEY).address,
  domain: { name: core.RECEIPT_DOMAIN_NAME, version: core.RECEIPT_DOMAIN_VERSION, ...domain },
  domainSeparator: TypedDataEncoder.hashDomain(core.receiptDomain(domain)),
  typeHash: core.keccak256(
    'StepReceipt(bytes32 runId,uint32 step,bytes32 prev,bytes32 codeHash,bytes32 outputHash,bytes32 artifactsHash,uint64 startedAt,uint64 endedAt)'
  ),
  salt,
  receipts,
  otherChain: {
    domain: otherDomain,
    digestOfStep0: core.receiptDigest(receipts[0].receipt, otherDomain)
  }
};
fs.writeFileSync(path.join(out, 'receipts.json'), JSON.stringify(vectors, null, 2) + '\n');

const trees = [1, 2, 3, 5, 8].map(n => {
  const digests = Array.from({ length: n }, (_, i) =>
    i < receipts.length ? receipts[i].digest : h(`filler digest ${i}`)
  );
  const tree = new core.ReceiptTree(digests);
  return {
    digests,
    root: tree.root,
    leaves: digests.map((d, step) => core.receiptLeafHash(step, d)),
    proofs: digests.map((_, step) => tree.proof(step))
  };
});
fs.writeFileSync(
  path.join(out, 'merkle.json'),
  JSON.stringify(
    {
      description:
        'StandardMerkleTree over [uint32 step, bytes32 receiptDigest] leaves in step order (OpenZeppelin leaf: keccak256(bytes.concat(keccak256(abi.encode(step, digest)))); sorted-pair nodes).',
      trees
    },
    null,
    2
  ) + '\n'
);
console.log('wrote', path.join(out, 'receipts.json'), 'and merkle.json');
