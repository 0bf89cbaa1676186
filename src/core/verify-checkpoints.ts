/**
 * Checkpoint verification's plan: which anchored checkpoints a verifier re-checks (from the client's revealed
 * secret and a later block hash, sampling.ts), which steps they cover, and the detection probability the sample
 * buys, in numbers and in a sentence for the badge and the CLI.
 */
import { makeError } from './errors.js';
import type { Hex32 } from './hash.js';
import { ReceiptTree } from './merkle.js';
import { deriveSamplingSeed, detectionProbability, sampleCheckpoints } from './sampling.js';
import type { ICheckpointSampling, ICheckpointSummary } from './verification.js';

/** The steps one sampled checkpoint covers: those after the previous checkpoint, up to its own receiptCount. */
export interface ICheckpointRange {
  index: number;
  /** First and last step (0-based, inclusive): steps prevReceiptCount .. receiptCount-1. */
  firstStep: number;
  lastStep: number;
}

/** What a checkpoint verification re-checks. */
export interface ICheckpointPlan {
  anchoredCount: number;
  /** Indexes of the sampled checkpoints, ascending. */
  sampledIndexes: number[];
  ranges: ICheckpointRange[];
  /** Every step inside a sampled checkpoint, ascending. */
  steps: number[];
  /** The last of them (-1 when none): execution runs up to here, since a step's state depends on all before it. */
  lastStep: number;
  /** Receipts covered by the anchored checkpoints (the last one's receiptCount). */
  anchoredReceipts: number;
}

/**
 * The plan of a checkpoint verification. Throws SAMPLING_INVALID_ARGUMENT for a malformed secret or block hash,
 * or for checkpoints that are not anchored in order with growing receipt counts (as the contract enforces).
 */
export function checkpointPlan(sampling: ICheckpointSampling): ICheckpointPlan {
  const anchored = [...sampling.anchored].sort((a, b) => a.index - b.index);
  anchored.forEach((c, i) => {
    const before = i === 0 ? 0 : anchored[i - 1].receiptCount;
    if (c.index !== i || !(c.receiptCount > before)) {
      throw makeError(
        'SAMPLING_INVALID_ARGUMENT',
        `The anchored checkpoints are not in order: checkpoint ${c.index} (covering ${c.receiptCount} receipts) ` +
          `is at position ${i} after ${before} receipts; read them again from the run's CheckpointAnchored events.`,
        { index: c.index }
      );
    }
  });
  const seed = deriveSamplingSeed(sampling.secret, sampling.blockHash);
  const sampledIndexes = sampleCheckpoints({ n: anchored.length, k: sampling.samples, seed });
  const ranges = sampledIndexes.map(index => ({
    index,
    firstStep: index === 0 ? 0 : anchored[index - 1].receiptCount,
    lastStep: anchored[index].receiptCount - 1
  }));
  const steps = ranges.flatMap(r =>
    Array.from({ length: r.lastStep - r.firstStep + 1 }, (_, i) => r.firstStep + i)
  );
  return {
    anchoredCount: anchored.length,
    sampledIndexes,
    ranges,
    steps,
    lastStep: steps.length ? steps[steps.length - 1] : -1,
    anchoredReceipts: anchored.length ? anchored[anchored.length - 1].receiptCount : 0
  };
}

/**
 * The summary of a plan: K = steps checked (`checked`, default every step of the sampled checkpoints; give the
 * number actually compared when some could not be) among N = `cellsTotal` (the run's steps; at least those anchored),
 * the probability 1 - C(N-M, K)/C(N, K) that the check meets at least one of M = ceil(f*N) falsified cells, and
 * the statement "3 of 10 checkpoints (12 of 40 cells); >= 97% if 30% of cells were falsified". The percentage
 * is rounded down, so the statement never promises more than the formula gives.
 */
export function checkpointSummary(
  plan: ICheckpointPlan,
  cellsTotal: number,
  falsifiedFraction = 0.3,
  checked = plan.steps.length
): ICheckpointSummary {
  if (!(falsifiedFraction > 0 && falsifiedFraction <= 1)) {
    throw makeError(
      'SAMPLING_INVALID_ARGUMENT',
      `The falsified fraction ${falsifiedFraction} is not in (0, 1]; pass the share of cells a cheat would falsify, e.g. 0.3.`,
      { falsifiedFraction }
    );
  }
  const n = Math.max(cellsTotal, plan.anchoredReceipts);
  const k = Math.min(checked, plan.steps.length);
  // The small epsilon keeps 0.3 * 40 = 12.000000000000002 from becoming 13.
  const m = n === 0 ? 0 : Math.min(n, Math.ceil(falsifiedFraction * n - 1e-9));
  const probability = n === 0 ? 0 : detectionProbability(n, m, k);
  const statement =
    `${plan.sampledIndexes.length} of ${plan.anchoredCount} checkpoints (${k} of ${n} cells); ` +
    `>= ${formatPercentDown(probability)} if ${formatPercentDown(falsifiedFraction)} of cells were falsified`;
  return {
    anchoredCount: plan.anchoredCount,
    sampledIndexes: plan.sampledIndexes,
    cellsChecked: k,
    cellsTotal: n,
    falsifiedFraction,
    probability,
    statement
  };
}

/** What checking the sampled checkpoints' roots found. */
export interface ICheckpointRoots {
  contradicted: NonNullable<ICheckpointSummary['contradicted']>;
  /** Sampled checkpoints whose root could not be recomputed (the notebook lacks some of their receipts). */
  unchecked: { index: number; missing: number[] }[];
}

/**
 * Recomputes the root of each sampled checkpoint from the receipt digests (`digestOf(step)`, recomputed from the
 * signed receipts) and compares it with the anchored root. A difference means the provider anchored something
 * other than what it signed: a contradiction that can be challenged on-chain.
 */
export function checkpointRoots(
  plan: ICheckpointPlan,
  anchored: readonly { index: number; root: Hex32; receiptCount: number }[],
  digestOf: (step: number) => Hex32 | undefined
): ICheckpointRoots {
  const result: ICheckpointRoots = { contradicted: [], unchecked: [] };
  for (const index of plan.sampledIndexes) {
    const c = anchored.find(a => a.index === index);
    if (!c) {
      continue;
    }
    const digests = Array.from({ length: c.receiptCount }, (_, step) => digestOf(step));
    const missing = digests.flatMap((d, step) => (d === undefined ? [step] : []));
    if (missing.length) {
      result.unchecked.push({ index, missing });
      continue;
    }
    const root = new ReceiptTree(digests as Hex32[]).root;
    if (root !== c.root) {
      result.contradicted.push({
        index,
        anchoredRoot: c.root,
        receiptsRoot: root,
        reason:
          `checkpoint ${index}'s anchored root ${c.root.slice(0, 10)}… is not the Merkle root of the provider's ` +
          `signed receipts 0-${c.receiptCount - 1} (${root.slice(0, 10)}…): it anchored something other than it signed`
      });
    }
  }
  return result;
}

/** A probability as a percentage rounded down: whole percents, or two decimals below 1%. */
export function formatPercentDown(p: number): string {
  const percent = p * 100;
  // A hair of tolerance so that 0.97 (96.99999999999999 %) still prints as 97%.
  if (percent >= 1 || percent === 0) {
    return `${Math.floor(percent + 1e-9)}%`;
  }
  return `${(Math.floor(percent * 100 + 1e-9) / 100).toFixed(2)}%`;
}
