/**
 * Re-checking a notebook's evidence (metadata.ain): each receipt's signature, digest and `prev` chain, and its
 * inclusion under the checkpoint roots anchored on-chain, read from the RunRegistry's events. Used by the
 * extension's worker and by `ain verify`; every check is the core's.
 */
import type {
  IAinChainAccess,
  IAinNotebookEvidence,
  IAinReceiptCheck,
  IAinReceiptRecord,
  IAinRecheckResult,
  IAinRunRecord
} from '../core/evidence.js';
import { Hex32, ZERO_HASH } from '../core/hash.js';
import { ICheckpoint, ReceiptTree, verifyReceiptProof } from '../core/merkle.js';
import {
  IReceiptDomain,
  ISignedReceipt,
  receiptDigest,
  validateReceiptChain,
  verifyReceipt
} from '../core/receipt.js';
import { IChainConfig } from './config.js';
import { RunRegistryClient, runEventsFrom } from './run-registry.js';
import { ChainSession } from './session.js';

/** null when `signed` verifies against `signer` in `domain`, else the reason. */
export function receiptSignatureProblem(
  signed: ISignedReceipt,
  domain: IReceiptDomain,
  signer: string
): string | null {
  try {
    verifyReceipt(signed, domain, signer);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Re-checks every receipt of `evidence` (see IAinWorkerApi.recheck). */
export async function recheckEvidence(
  evidence: IAinNotebookEvidence,
  chain: IAinChainAccess | null
): Promise<IAinRecheckResult> {
  const started = Date.now();
  const result: IAinRecheckResult = { receipts: [], runs: [], checkedAt: new Date().toISOString(), ms: 0 };
  const runs = new Map(evidence.runs.map(r => [r.runId, r]));
  const byRun = new Map<Hex32, IAinReceiptRecord[]>();
  for (const record of evidence.receipts) {
    const list = byRun.get(record.runId) ?? [];
    list.push(record);
    byRun.set(record.runId, list);
  }
  for (const [runId, records] of byRun) {
    const run = runs.get(runId);
    records.sort((a, b) => a.signed.receipt.step - b.signed.receipt.step);
    if (!run) {
      // Without the run record there is no provider to check the signature against.
      for (const r of records) {
        result.receipts.push(Private.unchecked(r, `metadata.ain has no run record for run ${runId}.`));
      }
      continue;
    }
    const onChain = await Private.readChain(run, chain);
    result.runs.push({
      runId,
      status: onChain.status,
      checkpoints: onChain.checkpoints,
      chainNote: onChain.note
    });
    result.receipts.push(...Private.checkRun(run, records, onChain));
  }
  result.ms = Date.now() - started;
  return result;
}

namespace Private {
  export function errorMessage(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
  }

  export interface IOnChain {
    status: string | null;
    checkpoints: ICheckpoint[];
    note: string;
  }

  export function unchecked(r: IAinReceiptRecord, why: string): IAinReceiptCheck {
    return {
      runId: r.runId,
      step: r.signed.receipt.step,
      signature: why,
      integrity: why,
      anchorNote: why,
      contradicted: false
    };
  }

  /**
   * The run's on-chain status and anchored checkpoints, or why they could not be read. Events are read from the
   * run's opening block when the chain confirms it, else from the configured deploymentBlock (runEventsFrom).
   */
  export async function readChain(run: IAinRunRecord, chain: IAinChainAccess | null): Promise<IOnChain> {
    if (!chain) {
      return {
        status: null,
        checkpoints: [],
        note: 'Not checked against the chain: no RPC endpoint configured.'
      };
    }
    // Reads touch the RunRegistry only; the config record still wants every address, so the registry stands in.
    const config: IChainConfig = {
      rpcUrl: chain.rpcUrl,
      chainId: run.chainId,
      contracts: { token: run.runRegistry, providerRegistry: run.runRegistry, runRegistry: run.runRegistry },
      deploymentBlock: chain.deploymentBlock
    };
    let session: ChainSession | null = null;
    try {
      session = await ChainSession.connect(config);
      const client = new RunRegistryClient(session);
      const from = await runEventsFrom(client, run.runId, run.openedBlock);
      const [record, checkpoints] = await Promise.all([
        client.getRun(run.runId),
        client.checkpoints(run.runId, from)
      ]);
      const note =
        record.status === 'none'
          ? `Run ${run.runId} does not exist on chain ${run.chainId} at ${run.runRegistry}.`
          : `Read from ${chain.rpcUrl}: run ${record.status}, ${checkpoints.length} anchored checkpoint(s).`;
      return { status: record.status, checkpoints, note };
    } catch (e) {
      return { status: null, checkpoints: [], note: `Could not read the chain: ${errorMessage(e)}` };
    } finally {
      session?.close();
    }
  }

  /** Signature, digest, `prev` chain and inclusion under the latest anchored root that the receipts reproduce. */
  export function checkRun(
    run: IAinRunRecord,
    records: IAinReceiptRecord[],
    onChain: IOnChain
  ): IAinReceiptCheck[] {
    const domain: IReceiptDomain = { chainId: run.chainId, verifyingContract: run.runRegistry };
    const digestByStep = new Map<number, Hex32>();
    for (const r of records) {
      digestByStep.set(r.signed.receipt.step, r.digest);
    }
    const checks = records.map((r): IAinReceiptCheck => {
      const receipt = r.signed.receipt;
      return {
        runId: r.runId,
        step: receipt.step,
        signature: receiptSignatureProblem(r.signed, domain, run.provider),
        integrity: integrityProblem(r, run, domain, digestByStep),
        anchorNote: onChain.note,
        contradicted: false
      };
    });
    const chainNote = chainProblem(records, run, domain);
    if (chainNote) {
      for (const c of checks) {
        c.integrity ??= chainNote;
      }
    }
    prove(checks, records, digestByStep, onChain);
    return checks;
  }

  function integrityProblem(
    r: IAinReceiptRecord,
    run: IAinRunRecord,
    domain: IReceiptDomain,
    digestByStep: Map<number, Hex32>
  ): string | null {
    const receipt = r.signed.receipt;
    if (receipt.runId !== run.runId) {
      return `The receipt names run ${receipt.runId}, but it is filed under run ${run.runId}.`;
    }
    let digest: Hex32;
    try {
      digest = receiptDigest(receipt, domain);
    } catch (e) {
      return errorMessage(e);
    }
    if (digest !== r.digest) {
      return `The receipt's fields hash to ${digest}, not to the digest recorded with it (${r.digest}): it was altered.`;
    }
    const expectedPrev = receipt.step === 0 ? ZERO_HASH : digestByStep.get(receipt.step - 1);
    if (expectedPrev !== undefined && receipt.prev !== expectedPrev) {
      return `Its "prev" is not the digest of step ${receipt.step - 1}: the receipt chain is broken here.`;
    }
    return null;
  }

  /** The whole run's chain, checked by the core: a gap or a replayed step is named once for every receipt. */
  function chainProblem(
    records: IAinReceiptRecord[],
    run: IAinRunRecord,
    domain: IReceiptDomain
  ): string | null {
    try {
      validateReceiptChain(
        records.map(r => r.signed.receipt),
        run.runId,
        domain
      );
      return null;
    } catch (e) {
      return errorMessage(e);
    }
  }

  function prove(
    checks: IAinReceiptCheck[],
    records: IAinReceiptRecord[],
    digestByStep: Map<number, Hex32>,
    onChain: IOnChain
  ): void {
    if (onChain.status === null) {
      return;
    }
    const anchoredMax = onChain.checkpoints.reduce((m, c) => Math.max(m, c.receiptCount), 0);
    for (const c of checks) {
      c.anchorNote =
        c.step < anchoredMax
          ? c.anchorNote
          : `No anchored checkpoint covers step ${c.step} yet (${onChain.checkpoints.length} anchored, covering ${anchoredMax} receipt(s)).`;
    }
    // The latest checkpoint covers the most steps; earlier ones only matter when a later root does not match.
    const ordered = [...onChain.checkpoints].sort((a, b) => b.index - a.index);
    for (const cp of ordered) {
      const digests: Hex32[] = [];
      for (let s = 0; s < cp.receiptCount; s++) {
        const d = digestByStep.get(s);
        if (d === undefined) {
          break;
        }
        digests.push(d);
      }
      const covered = checks.filter(c => c.step < cp.receiptCount && !c.anchored);
      if (digests.length < cp.receiptCount) {
        for (const c of covered) {
          c.anchorNote = `Checkpoint ${cp.index} covers steps 0-${cp.receiptCount - 1}, but this notebook lacks step ${digests.length}: its root cannot be recomputed.`;
        }
        continue;
      }
      const tree = new ReceiptTree(digests);
      if (tree.root !== cp.root) {
        const allSound = covered.every(c => c.signature === null && c.integrity === null);
        for (const c of covered) {
          c.contradicted = allSound;
          c.anchorNote = allSound
            ? `The anchored root of checkpoint ${cp.index} (${cp.root}) contradicts the signed receipts 0-${cp.receiptCount - 1}, whose root is ${tree.root}.`
            : `The receipts 0-${cp.receiptCount - 1} give root ${tree.root}, not the anchored ${cp.root}, because some of them fail their checks.`;
        }
        continue;
      }
      for (const c of covered) {
        const record = records.find(r => r.signed.receipt.step === c.step) as IAinReceiptRecord;
        const proof = tree.proof(c.step);
        // The proof is checked for the digest recomputed from the receipt's fields, so an edited receipt whose
        // recorded digest was left alone does not pass.
        const domainDigest = c.integrity === null ? record.digest : null;
        if (domainDigest && verifyReceiptProof(cp.root, c.step, domainDigest, proof)) {
          c.anchored = {
            checkpoint: cp.index,
            root: cp.root,
            receiptCount: cp.receiptCount,
            proof,
            txHash: cp.txHash,
            blockNumber: cp.blockNumber
          };
          c.anchorNote = `Proven under the root of checkpoint ${cp.index}, anchored on-chain.`;
        } else {
          c.anchorNote = `The receipt fails its checks, so it is not proven under checkpoint ${cp.index}.`;
        }
      }
    }
  }
}
