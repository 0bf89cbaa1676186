import { isAinError } from './errors.js';
import { sha256 } from './hash.js';
import { deriveSamplingSeed, sampleCheckpoints } from './sampling.js';
import { checkpointPlan, checkpointSummary, formatPercentDown } from './verify-checkpoints.js';

const secret = sha256('secret');
const blockHash = sha256('block');
const anchored = (counts: number[]) =>
  counts.map((receiptCount, index) => ({ index, root: sha256(`root ${index}`), receiptCount }));
// Exact values of 1 - C(N-M,K)/C(N,K), computed apart from this code with Python:
//   float(1 - Fraction(math.comb(N - M, K), math.comb(N, K)))
const PYTHON: Record<string, number> = {
  '12,4,1': 0.3333333333333333,
  '12,4,2': 0.5757575757575758,
  '12,4,3': 0.7454545454545455,
  '12,4,4': 0.8585858585858586,
  '12,4,5': 0.9292929292929293,
  '12,4,6': 0.9696969696969697,
  '12,4,7': 0.98989898989899,
  '12,4,8': 0.997979797979798,
  '12,4,9': 1,
  '12,4,10': 1,
  '12,4,11': 1,
  '12,4,12': 1,
  '40,12,12': 0.9945547605447494,
  '45,14,12': 0.995093170434597,
  '100,10,36': 0.9912495374391099,
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

describe('checkpointSummary', () => {
  it('gives the probability of meeting a falsified cell, as Python computes it, and the statement', () => {
    const plan = checkpointPlan({
      anchored: anchored([4, 8, 12, 16, 20, 24, 28, 32, 36, 40]),
      secret,
      blockHash,
      samples: 3
    });
    const s = checkpointSummary(plan, 40);
    expect(s).toMatchObject({ anchoredCount: 10, cellsChecked: 12, cellsTotal: 40, falsifiedFraction: 0.3 });
    expect(s.probability).toBeCloseTo(PYTHON['40,12,12'], 14);
    expect(s.statement).toBe('3 of 10 checkpoints (12 of 40 cells); >= 99% if 30% of cells were falsified');
    // Cells after the last anchor count in N (they could be falsified too): N = 45, M = ceil(13.5) = 14.
    expect(checkpointSummary(plan, 45).probability).toBeCloseTo(PYTHON['45,14,12'], 14);
  });

  it('matches Python for every sample size of an uneven run', () => {
    const counts = [1, 3, 4, 6, 7, 9, 10, 12];
    for (let samples = 1; samples <= counts.length; samples++) {
      const plan = checkpointPlan({ anchored: anchored(counts), secret, blockHash, samples });
      const s = checkpointSummary(plan, 12);
      expect(s.probability).toBeCloseTo(PYTHON[`12,4,${plan.steps.length}`], 14);
    }
  });

  it('rounds the percentage down, and shows small ones with decimals', () => {
    const plan = checkpointPlan({ anchored: anchored([1, 2, 3, 4, 5]), secret, blockHash, samples: 5 });
    const s = checkpointSummary(plan, 1000, 0.001);
    expect(s.probability).toBeCloseTo(PYTHON['1000,1,5'], 15);
    expect(s.statement).toBe(
      '5 of 5 checkpoints (5 of 1000 cells); >= 0.50% if 0.10% of cells were falsified'
    );
    expect(formatPercentDown(0.9696969696969697)).toBe('96%');
    expect(formatPercentDown(0.97)).toBe('97%');
    expect(formatPercentDown(1)).toBe('100%');
    expect(formatPercentDown(0.00999)).toBe('0.99%');
    expect(() => checkpointSummary(plan, 10, 0)).toThrow(/falsified fraction 0 is not in \(0, 1\]/);
  });
});
