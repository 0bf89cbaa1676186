/**
 * TypeScript (src/core) and Solidity (RunRegistry) agree byte for byte on receipts and checkpoints: type hash,
 * domain separator, struct hash, digest, signer, Merkle leaf, root and proofs. The contract's runtime code is
 * copied to the vectors' verifying contract with anvil_setCode, so the shared tests/vectors files (when present)
 * are checked against the real contract at the very address they were signed for.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Contract, TypedDataEncoder } from 'ethers';
import { keccak256 } from '../../src/core/hash';
import { ReceiptTree, receiptLeafHash } from '../../src/core/merkle';
import { IReceiptDomain, receiptDomain, receiptDigest, receiptStructHash } from '../../src/core/receipt';
import { RUN_REGISTRY_ABI } from '../../src/chain/abi';
import { devPrivateKey } from '../../src/chain/dev-chain';
import { IChainFixture, random32, signedReceipts, startChainFixture } from './chain-fixture';

const VECTORS = path.join(__dirname, '..', 'vectors');
const RECEIPT_VECTORS = JSON.parse(readFileSync(path.join(VECTORS, 'receipts.json'), 'utf8'));
const MERKLE_VECTORS = JSON.parse(readFileSync(path.join(VECTORS, 'merkle.json'), 'utf8'));
const DOMAIN: IReceiptDomain = {
  chainId: RECEIPT_VECTORS.domain.chainId,
  verifyingContract: RECEIPT_VECTORS.domain.verifyingContract
};
const TYPE =
  'StepReceipt(bytes32 runId,uint32 step,bytes32 prev,bytes32 codeHash,bytes32 outputHash,bytes32 artifactsHash,uint64 startedAt,uint64 endedAt)';

describe('receipt and Merkle vectors: TypeScript == Solidity', () => {
  let f: IChainFixture;
  let c: Contract;
  beforeAll(async () => {
    f = await startChainFixture();
    await f.deployer.session.provider.send('anvil_setCode', [
      DOMAIN.verifyingContract,
      // The deployed code, not the artifact's deployedBytecode: the immutables (hashed name and version, the
      // registry) are only filled in by the constructor.
      await f.deployer.session.provider.getCode(f.deployment.contracts.runRegistry)
    ]);
    c = new Contract(DOMAIN.verifyingContract, RUN_REGISTRY_ABI, f.deployer.session.provider);
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('type hash and domain separator', async () => {
    expect(await c.STEP_RECEIPT_TYPEHASH()).toBe(keccak256(TYPE));
    expect(await c.domainSeparator()).toBe(TypedDataEncoder.hashDomain(receiptDomain(DOMAIN)));
  });

  it('struct hash, digest, signer, leaves, roots and proofs of freshly signed receipts', async () => {
    const key = devPrivateKey(1);
    const { signed, digests } = signedReceipts(random32(), 9, DOMAIN, key);
    for (const s of signed) {
      expect(await c.receiptStructHash(s.receipt)).toBe(receiptStructHash(s.receipt));
      expect(await c.receiptDigest(s.receipt)).toBe(receiptDigest(s.receipt, DOMAIN));
      expect(await c.recoverReceiptSigner(s.receipt, s.signature)).toBe(f.provider.address);
      expect(await c.receiptLeaf(s.receipt.step, digests[s.receipt.step])).toBe(
        receiptLeafHash(s.receipt.step, digests[s.receipt.step])
      );
    }
    for (const n of [1, 2, 5, 9]) {
      const tree = new ReceiptTree(digests.slice(0, n));
      for (let step = 0; step < n; step++) {
        expect(await c.verifyReceiptProof(tree.root, step, digests[step], tree.proof(step))).toBe(true);
      }
      if (n > 1) {
        // The step is bound into the leaf: a proof for step 0 does not prove the same digest at step 1.
        expect(await c.verifyReceiptProof(tree.root, 1, digests[0], tree.proof(0))).toBe(false);
      }
    }
  });

  it('the shared tests/vectors files verify on-chain', async () => {
    const r = RECEIPT_VECTORS;
    expect(r.domain.verifyingContract.toLowerCase()).toBe(DOMAIN.verifyingContract.toLowerCase());
    expect(await c.STEP_RECEIPT_TYPEHASH()).toBe(r.typeHash);
    expect(await c.domainSeparator()).toBe(r.domainSeparator);
    for (const v of r.receipts) {
      expect(await c.receiptStructHash(v.receipt)).toBe(v.structHash);
      expect(await c.receiptDigest(v.receipt)).toBe(v.digest);
      expect(await c.recoverReceiptSigner(v.receipt, v.signature)).toBe(r.signer);
    }
    const m = MERKLE_VECTORS;
    for (const t of m.trees) {
      for (let step = 0; step < t.digests.length; step++) {
        expect(await c.receiptLeaf(step, t.digests[step])).toBe(t.leaves[step]);
        expect(await c.verifyReceiptProof(t.root, step, t.digests[step], t.proofs[step])).toBe(true);
      }
    }
  });
});
