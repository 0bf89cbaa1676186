/**
 * Challenges a notebook's evidence supports (DESIGN.md "On-chain"): equivocation — two receipts the provider
 * signed for one step — and a signed receipt that an anchored checkpoint contradicts. Found from metadata.ain and
 * its re-check, checked locally before anything is sent (signatures, one run, one step), and submitted to the
 * RunRegistry, which slashes the provider's stake, refunds the client and rewards the challenger. Shared by the
 * CLI (`ain challenge`) and the extension.
 */
import { Interface } from 'ethers';
import type { IAinNotebookEvidence, IAinRecheckResult, IAinRunRecord } from '../core/evidence.js';
import type { Hex32 } from '../core/hash.js';
import { IReceiptDomain, ISignedReceipt, receiptDigest } from '../core/receipt.js';
import { RUN_REGISTRY_ABI } from './abi.js';
import { receiptSignatureProblem } from './evidence-recheck.js';
import { RunRegistryClient } from './run-registry.js';
import type { ITxResult } from './session.js';

/** A challenge the evidence supports. */
export type ChallengeCandidate =
  | { kind: 'equivocation'; runId: Hex32; step: number; a: ISignedReceipt; b: ISignedReceipt; why: string }
  | { kind: 'inclusion'; runId: Hex32; step: number; signed: ISignedReceipt; why: string };

/** What the chain did with a challenge. */
export interface IChallengeOutcome {
  tx: ITxResult;
  /** From the RunSlashed event, in token base units. */
  slashed: bigint;
  challengerReward: bigint;
  clientRefund: bigint;
}

/**
 * The challenges `evidence` supports, per run: equivocations first (recorded pairs, then any two differing
 * receipts filed for one step), then receipts the re-check found contradicted by an anchored root. Only pairs
 * whose both signatures are the run's provider's in the run's domain are kept: anything else would revert.
 */
export function findChallenges(
  evidence: IAinNotebookEvidence,
  recheck: IAinRecheckResult | null
): ChallengeCandidate[] {
  const runs = new Map(evidence.runs.map(r => [r.runId, r]));
  const out: ChallengeCandidate[] = [];
  const seen = new Set<string>();
  const addPair = (run: IAinRunRecord | undefined, a: ISignedReceipt, b: ISignedReceipt, why: string) => {
    if (!run || a.receipt.runId !== run.runId || b.receipt.runId !== run.runId) {
      return;
    }
    const domain = Private.domain(run);
    const [da, db] = [receiptDigest(a.receipt, domain), receiptDigest(b.receipt, domain)];
    const key = [run.runId, a.receipt.step, ...[da, db].sort()].join(':');
    if (
      a.receipt.step !== b.receipt.step ||
      da === db ||
      seen.has(key) ||
      receiptSignatureProblem(a, domain, run.provider) !== null ||
      receiptSignatureProblem(b, domain, run.provider) !== null
    ) {
      return;
    }
    seen.add(key);
    out.push({ kind: 'equivocation', runId: run.runId, step: a.receipt.step, a, b, why });
  };
  for (const e of evidence.equivocations ?? []) {
    addPair(runs.get(e.runId), e.a, e.b, `two receipts signed for step ${e.step} (recorded live)`);
  }
  const byStep = new Map<string, ISignedReceipt[]>();
  for (const r of evidence.receipts) {
    const key = `${r.runId}:${r.signed.receipt.step}`;
    byStep.set(key, [...(byStep.get(key) ?? []), r.signed]);
  }
  for (const [key, list] of byStep) {
    for (let i = 1; i < list.length; i++) {
      const runId = key.slice(0, key.indexOf(':')) as Hex32;
      addPair(
        runs.get(runId),
        list[0],
        list[i],
        `two receipts for step ${list[0].receipt.step} in metadata.ain`
      );
    }
  }
  for (const c of recheck?.receipts ?? []) {
    if (!c.contradicted) {
      continue;
    }
    const record = evidence.receipts.find(r => r.runId === c.runId && r.signed.receipt.step === c.step);
    if (record) {
      out.push({ kind: 'inclusion', runId: c.runId, step: c.step, signed: record.signed, why: c.anchorNote });
    }
  }
  return out;
}

/**
 * Submits `candidate`. An inclusion challenge needs what the provider anchored at that step: `anchored` (the
 * digest, its Merkle proof and the checkpoint index, from the agent's GET /runs/{id}/receipts/{step}/proof); the
 * run's checkpoint history is read from `fromBlock` (default: the configured deploymentBlock; see runEventsFrom).
 */
export async function submitChallenge(
  registry: RunRegistryClient,
  candidate: ChallengeCandidate,
  anchored?: { digest: Hex32; proof: Hex32[]; checkpointIndex: number },
  fromBlock?: number
): Promise<IChallengeOutcome> {
  let tx: ITxResult;
  if (candidate.kind === 'equivocation') {
    tx = await registry.challengeEquivocation(candidate.a, candidate.b);
  } else {
    if (!anchored) {
      throw new Error('An inclusion challenge needs the anchored digest and its proof.');
    }
    const evidence = await registry.inclusionEvidence(
      candidate.runId,
      anchored.checkpointIndex,
      anchored.digest,
      anchored.proof,
      fromBlock
    );
    tx = await registry.challengeInclusion(candidate.signed, evidence);
  }
  return { tx, ...Private.slashEvent(tx) };
}

namespace Private {
  const registryInterface = new Interface(RUN_REGISTRY_ABI);

  export function domain(run: IAinRunRecord): IReceiptDomain {
    return { chainId: run.chainId, verifyingContract: run.runRegistry };
  }

  /** The amounts of the transaction's RunSlashed event. */
  export function slashEvent(tx: ITxResult): Omit<IChallengeOutcome, 'tx'> {
    for (const log of tx.logs) {
      try {
        const parsed = registryInterface.parseLog(log);
        if (parsed?.name === 'RunSlashed') {
          return {
            slashed: parsed.args.slashed as bigint,
            challengerReward: parsed.args.challengerReward as bigint,
            clientRefund: parsed.args.clientRefund as bigint
          };
        }
      } catch {
        // a log of another contract (the token's transfers)
      }
    }
    return { slashed: 0n, challengerReward: 0n, clientRefund: 0n };
  }
}
