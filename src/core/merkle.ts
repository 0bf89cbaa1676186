/**
 * Checkpoints (DESIGN.md §5): an OpenZeppelin StandardMerkleTree over leaves `[step, receiptDigest]` in step
 * order. Only the root goes on-chain; a proof shows that one receipt is part of an anchored checkpoint.
 *
 * The step index is inside the leaf because sorted-pair hashing does not bind a leaf's position: without it, a
 * provider could prove a receipt "at" another step. Leaf hash, as Solidity computes it:
 *   keccak256(bytes.concat(keccak256(abi.encode(uint32 step, bytes32 digest))))
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, getBytes, keccak256 } from 'ethers';
import { assert } from './errors.js';
import { Hex32, isHex32 } from './hash.js';

/** ABI types of a leaf, shared with the contracts. */
export const RECEIPT_LEAF_ENCODING = ['uint32', 'bytes32'];

type Leaf = [number, Hex32];

/** A checkpoint as it is anchored and as it travels in notebook metadata. */
export interface ICheckpoint {
  /** 0-based position among the run's checkpoints. */
  index: number;
  /** Merkle root over receipts 0 .. receiptCount-1. */
  root: Hex32;
  receiptCount: number;
  /** Set once the anchor transaction is mined. */
  txHash?: Hex32;
  blockNumber?: number;
}

/** A Merkle tree over a run's receipt digests (digests[i] is the receipt of step i). */
export class ReceiptTree {
  private readonly tree: StandardMerkleTree<Leaf>;

  constructor(digests: readonly Hex32[]) {
    assert(digests.length > 0, 'MERKLE_INVALID', 'A checkpoint needs at least one receipt.');
    digests.forEach((d, step) =>
      assert(isHex32(d), 'MERKLE_INVALID', `Receipt digest of step ${step} is not a 32-byte hex string.`, {
        step
      })
    );
    // Leaves stay in step order (no sorting), so the tree reads like the run it commits to.
    this.tree = StandardMerkleTree.of(
      digests.map((d, step): Leaf => [step, d]),
      RECEIPT_LEAF_ENCODING,
      { sortLeaves: false }
    );
  }

  get root(): Hex32 {
    return this.tree.root;
  }

  get size(): number {
    return this.tree.length;
  }

  /** The inclusion proof of a step's receipt. */
  proof(step: number): Hex32[] {
    assert(
      Number.isInteger(step) && step >= 0 && step < this.tree.length,
      'MERKLE_INVALID',
      `No receipt for step ${step} in this checkpoint (it covers steps 0 to ${this.tree.length - 1}).`,
      { step }
    );
    return this.tree.getProof(step);
  }

  /** The checkpoint record for this tree. */
  checkpoint(index: number): ICheckpoint {
    return { index, root: this.root, receiptCount: this.size };
  }
}

/** The leaf hash of `[step, digest]`, as the contracts compute it. */
export function receiptLeafHash(step: number, digest: Hex32): Hex32 {
  return keccak256(
    getBytes(keccak256(AbiCoder.defaultAbiCoder().encode(RECEIPT_LEAF_ENCODING, [step, digest])))
  );
}

/** True when `proof` shows that the receipt with `digest` is step `step` under `root`. Never throws. */
export function verifyReceiptProof(
  root: Hex32,
  step: number,
  digest: Hex32,
  proof: readonly Hex32[]
): boolean {
  try {
    return StandardMerkleTree.verify<Leaf>(root, RECEIPT_LEAF_ENCODING, [step, digest], [...proof]);
  } catch {
    return false;
  }
}
