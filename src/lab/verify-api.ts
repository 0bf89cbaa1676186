/**
 * The verification worker's functions (IAinWorkerApi), free of the DOM and of comlink so that jest calls them
 * directly in Node and `verify.worker.ts` only exposes them. Every check is the core's (receipts, Merkle trees,
 * bundles, notebook hash); on-chain roots come from the RunRegistry's CheckpointAnchored events via src/chain.
 */
import { createBundle } from '../core/bundle-writer.js';
import { Hex32 } from '../core/hash.js';
import { ReceiptTree, verifyReceiptProof } from '../core/merkle.js';
import { notebookHash } from '../core/notebook.js';
import { IReceiptDomain, ISignedReceipt } from '../core/receipt.js';
import { recheckEvidence, receiptSignatureProblem } from '../chain/evidence-recheck.js';
import type { IAinWorkerApi } from './tokens.js';

// The re-check itself lives in src/chain (the CLI runs it too); the worker exposes it.
export { recheckEvidence as recheck } from '../chain/evidence-recheck.js';

/** The worker's API; `verify.worker.ts` exposes it over comlink. */
export const verifyApi: IAinWorkerApi = {
  async notebookHash(notebook: object): Promise<Hex32> {
    return notebookHash(notebook);
  },

  async pack(notebookPath: string, files: Record<string, Uint8Array>) {
    const bundle = createBundle({ notebookPath, files: new Map(Object.entries(files)) });
    return { bytes: bundle.bytes, bundleHash: bundle.bundleHash };
  },

  async verifyReceipts(domain: IReceiptDomain, signer: string, receipts: ISignedReceipt[]) {
    return receipts.map(signed => receiptSignatureProblem(signed, domain, signer));
  },

  async proveSteps(digests: Hex32[], root: Hex32, steps: number[]) {
    if (digests.length === 0) {
      return steps.map(() => false);
    }
    const tree = new ReceiptTree(digests);
    return steps.map(
      step =>
        Number.isInteger(step) &&
        step >= 0 &&
        step < tree.size &&
        verifyReceiptProof(root, step, digests[step], tree.proof(step))
    );
  },

  recheck: recheckEvidence
};
