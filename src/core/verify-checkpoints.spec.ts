import { isAinError } from './errors.js';
import { sha256 } from './hash.js';
import { deriveSamplingSeed, sampleCheckpoints } from './sampling.js';
import { checkpointPlan, checkpointSummary, formatPercentDown } from './verify-checkpoints.js';

const secret = sha256('secret');
const blockHash = sha256('block');
const anchored = (counts: number[]) =>
  counts.map((receiptCount, index) => ({ index, root: sha256(`root ${index}`), receiptCount }));
// Exact values of 1 - C(A-C,K)/C(A,K) (A checkpoints, C of them holding falsified cells, K checked), computed apart
// from this code with Python: float(1 - Fraction(math.comb(A - C, K), math.comb(A, K)))
const PYTHON: Record<string, number> = {
  '10,3,3': 0.7083333333333334,
  '10,3,2': 0.5333333333333333,
  '8,2,1': 0.25,
  '8,2,2': 0.4642857142857143,
  '8,2,3': 0.6428571428571429,
  '8,2,4': 0.7857142857142857,
  '8,2,5': 0.8928571428571429,
  '8,2,6': 0.9642857142857143,
  '8,2,7': 1,
  '8,2,8': 1,
  '6,1,2': 0.3333333333333333,
  '1000,1,5': 0.005
};

describe('checkpointPlan', () => {
  it('samples with the seed of the revealed secret and the block hash, and covers (prev count, count]', () => {
    const plan = checkpointPlan({ anchored: anchored([3, 5, 12, 20]), secret, blockHash, samples: 2 });
    const expected = sampleCheckpoints({ n: 4, k: 2, seed: deriveSamplingSeed(secret, blockHash) });
    expect(plan.sampledIndexes).toEqual(expected);
    const spans: Record<number, [number, number]> = { 0: [0, 2], 1: [3, 4], 2: [5, 11], 3: [12, 19] };
    expect(plan.ranges).toEqual(
      expected.map(index => ({ index, firstStep: spans[index][0], lastStep: spans[index][1] }))
    );
    const steps = expected.flatMap(i =>
      Array.from({ length: spans[i][1] - spans[i][0] + 1 }, (_, j) => spans[i][0] + j)
    );
    expect(plan.steps).toEqual(steps);
    expect(plan.lastStep).toBe(steps[steps.length - 1]);
    expect(plan.anchoredReceipts).toBe(20);
  });

  it('takes every checkpoint when asked for more than were anchored, and none of none', () => {
    expect(checkpointPlan({ anchored: anchored([2, 4]), secret, blockHash, samples: 5 }).steps).toEqual([
      0, 1, 2, 3
    ]);
    expect(checkpointPlan({ anchored: [], secret, blockHash, samples: 3 })).toMatchObject({
      steps: [],
      lastStep: -1
    });
  });

  it('refuses checkpoints out of order or not growing, and a malformed secret', () => {
    const bad = anchored([4, 4]);
    expect(() => checkpointPlan({ anchored: bad, secret, blockHash, samples: 1 })).toThrow(/not in order/);
    const gap = [anchored([4])[0], { index: 2, root: sha256('x'), receiptCount: 8 }];
    expect(() => checkpointPlan({ anchored: gap, secret, blockHash, samples: 1 })).toThrow(/not in order/);
    try {
      checkpointPlan({ anchored: anchored([4]), secret: '0x12', blockHash, samples: 1 });
    } catch (e) {
      expect(isAinError(e, 'SAMPLING_INVALID_ARGUMENT')).toBe(true);
    }
  });
});

/** 40 cells anchored in 10 checkpoints of 4, `samples` of them sampled. */
const tenCheckpointsOfFour = (samples: number) =>
  checkpointPlan({ anchored: anchored([4, 8, 12, 16, 20, 24, 28, 32, 36, 40]), secret, blockHash, samples });

describe('checkpointSummary', () => {
  it('bounds detection for the worst placement: falsified cells packed into the fewest checkpoints', () => {
    const plan = tenCheckpointsOfFour(3);
    // 12 of 40 cells falsified fill 3 checkpoints of 4 at least; 3 of 10 sampled meet one of them.
    const s = checkpointSummary(plan, 40);
    expect(s).toMatchObject({ anchoredCount: 10, cellsChecked: 12, cellsTotal: 40, falsifiedFraction: 0.3 });
    expect(s.probability).toBeCloseTo(PYTHON['10,3,3'], 14);
    expect(s.statement).toBe('3 of 10 checkpoints (12 of 40 cells); >= 70% if 30% of cells were falsified');
    // Cells after the last anchor are never sampled: a cheat fills them first. N = 45: M = 14, 5 of them there.
    expect(checkpointSummary(plan, 45).probability).toBeCloseTo(PYTHON['10,3,3'], 14);
    // A falsified share that fits after the last anchor is never met.
    expect(checkpointSummary(plan, 60, 0.3).probability).toBe(0);
  });

  it('a provider that anchors one large checkpoint can hide the falsified cells in it', () => {
    const plan = checkpointPlan({
      anchored: anchored([30, 32, 34, 36, 38, 40]),
      secret,
      blockHash,
      samples: 2
    });
    expect(checkpointSummary(plan, 40).probability).toBeCloseTo(PYTHON['6,1,2'], 14);
  });

  it('matches Python for every sample size of an uneven run', () => {
    // Checkpoints of 1, 2, 1, 2, 1, 2, 1, 2 cells: 4 falsified cells fit in two of the 2-cell ones.
    const counts = [1, 3, 4, 6, 7, 9, 10, 12];
    for (let samples = 1; samples <= counts.length; samples++) {
      const plan = checkpointPlan({ anchored: anchored(counts), secret, blockHash, samples });
      expect(checkpointSummary(plan, 12).probability).toBeCloseTo(PYTHON[`8,2,${samples}`], 14);
    }
  });

  it('counts only the sampled checkpoints whose every step was compared', () => {
    const plan = tenCheckpointsOfFour(3);
    const partly = plan.steps.slice(0, -1); // the last sampled checkpoint lacks one step
    const s = checkpointSummary(plan, 40, 0.3, partly);
    expect(s.cellsChecked).toBe(8);
    expect(s.probability).toBeCloseTo(PYTHON['10,3,2'], 14);
    expect(s.statement).toMatch(/^2 of 10 checkpoints \(8 of 40 cells\); >= 53% /);
  });

  it('rounds the percentage down, and shows small ones with decimals', () => {
    const plan = checkpointPlan({
      anchored: anchored(Array.from({ length: 1000 }, (_, i) => i + 1)),
      secret,
      blockHash,
      samples: 5
    });
    const s = checkpointSummary(plan, 1000, 0.001);
    expect(s.probability).toBeCloseTo(PYTHON['1000,1,5'], 15);
    expect(s.statement).toBe(
      '5 of 1000 checkpoints (5 of 1000 cells); >= 0.50% if 0.10% of cells were falsified'
    );
    expect(formatPercentDown(0.9696969696969697)).toBe('96%');
    expect(formatPercentDown(0.97)).toBe('97%');
    expect(formatPercentDown(1)).toBe('100%');
    expect(formatPercentDown(0.00999)).toBe('0.99%');
    expect(() => checkpointSummary(plan, 10, 0)).toThrow(/falsified fraction 0 is not in \(0, 1\]/);
  });
});
