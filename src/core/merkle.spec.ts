import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AbiCoder, concat, keccak256 } from 'ethers';
import { isAinError } from './errors';
import { sha256 } from './hash';
import { ReceiptTree, receiptLeafHash, verifyReceiptProof } from './merkle';

const vectors = JSON.parse(readFileSync(join(__dirname, '../../tests/vectors/merkle.json'), 'utf8'));

/** OpenZeppelin's leaf and MerkleProof.processProof, written out from their specification. */
function leaf(step: number, digest: string): string {
  return keccak256(keccak256(AbiCoder.defaultAbiCoder().encode(['uint32', 'bytes32'], [step, digest])));
}
function processProof(leafHash: string, proof: string[]): string {
  return proof.reduce(
    (node, sibling) => keccak256(node < sibling ? concat([node, sibling]) : concat([sibling, node])),
    leafHash
  );
}

describe('Merkle checkpoints', () => {
  it.each(vectors.trees.map((t: any) => [t.digests.length, t]))(
    'reproduces the %i-leaf vector',
    (_n, t: any) => {
      const tree = new ReceiptTree(t.digests);
      expect(tree.root).toBe(t.root);
      t.digests.forEach((d: string, step: number) => {
        expect(receiptLeafHash(step, d)).toBe(t.leaves[step]);
        expect(leaf(step, d)).toBe(t.leaves[step]);
        expect(tree.proof(step)).toEqual(t.proofs[step]);
        expect(processProof(t.leaves[step], t.proofs[step])).toBe(t.root);
        expect(verifyReceiptProof(t.root, step, d, t.proofs[step])).toBe(true);
      });
    }
  );

  it('does not prove a receipt at another step, another receipt, or under another root', () => {
    const digests = Array.from({ length: 7 }, (_, i) => sha256(`receipt ${i}`));
    const tree = new ReceiptTree(digests);
    const proof = tree.proof(3);
    expect(verifyReceiptProof(tree.root, 3, digests[3], proof)).toBe(true);
    expect(verifyReceiptProof(tree.root, 4, digests[3], proof)).toBe(false);
    expect(verifyReceiptProof(tree.root, 3, digests[4], proof)).toBe(false);
    expect(verifyReceiptProof(new ReceiptTree(digests.slice(0, 6)).root, 3, digests[3], proof)).toBe(false);
    expect(verifyReceiptProof(tree.root, 3, digests[3], ['0x1234'])).toBe(false);
  });

  it('commits to the order of receipts', () => {
    const digests = [sha256('a'), sha256('b')];
    expect(new ReceiptTree(digests).root).not.toBe(new ReceiptTree([...digests].reverse()).root);
  });

  it('gives the checkpoint record and refuses what it cannot prove', () => {
    const tree = new ReceiptTree([sha256('a'), sha256('b'), sha256('c')]);
    expect(tree.checkpoint(2)).toEqual({ index: 2, root: tree.root, receiptCount: 3 });
    expect(() => tree.proof(3)).toThrow(/covers steps 0 to 2/);
    for (const bad of [[], ['0x12']]) {
      try {
        new ReceiptTree(bad);
        throw new Error('expected MERKLE_INVALID');
      } catch (e) {
        expect(isAinError(e, 'MERKLE_INVALID')).toBe(true);
      }
    }
  });
});
