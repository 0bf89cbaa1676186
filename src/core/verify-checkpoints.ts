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
  /** Receipts in each anchored checkpoint, by index (the provider chose where checkpoints end). */
  sizes: number[];
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
    anchoredReceipts: anchored.length ? anchored[anchored.length - 1].receiptCount : 0,
    sizes: anchored.map((c, i) => c.receiptCount - (i === 0 ? 0 : anchored[i - 1].receiptCount))
  };
}

/**
 * The summary of a plan: the probability that the check meets a falsified cell when M = ceil(f*N) of the run's
 * N = `cellsTotal` cells (at least those anchored) were falsified, wherever the cheat put them, and the statement
 * "3 of 10 checkpoints (12 of 40 cells); >= 70% if 30% of cells were falsified", rounded down.
 *
 * The sample draws checkpoints, not cells, and the provider chose where checkpoints end: a cheat puts its
 * falsified cells where they are least likely to be checked, first after the last anchor (never sampled), then
 * into the largest checkpoints. They then fill C checkpoints at least (the fewest that can hold them), and the
 * check meets one with probability 1 - C(A-C, K)/C(A, K) for A anchored checkpoints of which K were checked (a
 * sampled checkpoint counts only when every step of it was compared: `checkedSteps`, default all). That is a
 * bound for any placement; with one cell per checkpoint it is the per-cell formula.
 */
export function checkpointSummary(
  plan: ICheckpointPlan,
  cellsTotal: number,
  falsifiedFraction = 0.3,
  checkedSteps: Iterable<number> = plan.steps
): ICheckpointSummary {
  if (!(falsifiedFraction > 0 && falsifiedFraction <= 1)) {
    throw makeError(
      'SAMPLING_INVALID_ARGUMENT',
      `The falsified fraction ${falsifiedFraction} is not in (0, 1]; pass the share of cells a cheat would falsify, e.g. 0.3.`,
      { falsifiedFraction }
    );
  }
  const n = Math.max(cellsTotal, plan.anchoredReceipts);
  const compared = new Set(checkedSteps);
  const checkedRanges = plan.ranges.filter(r => {
    for (let s = r.firstStep; s <= r.lastStep; s++) {
      if (!compared.has(s)) {
        return false;
      }
    }
    return true;
  });
  const k = checkedRanges.reduce((sum, r) => sum + r.lastStep - r.firstStep + 1, 0);
  // The small epsilon keeps 0.3 * 40 = 12.000000000000002 from becoming 13.
  const m = n === 0 ? 0 : Math.min(n, Math.ceil(falsifiedFraction * n - 1e-9));
  const filled = fewestCheckpoints(plan.sizes, m - (n - plan.anchoredReceipts));
  const probability =
    plan.anchoredCount === 0 ? 0 : detectionProbability(plan.anchoredCount, filled, checkedRanges.length);
  const statement =
    `${checkedRanges.length} of ${plan.anchoredCount} checkpoints (${k} of ${n} cells); ` +
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

/** The fewest checkpoints (of these sizes) that can hold `cells` cells: the largest first. */
function fewestCheckpoints(sizes: number[], cells: number): number {
  let count = 0;
  for (const size of [...sizes].sort((a, b) => b - a)) {
    if (cells <= 0) {
      break;
    }
    cells -= size;
    count++;
  }
  return count;
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
