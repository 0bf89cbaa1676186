import { solidityPackedKeccak256 } from 'ethers';
import vectors from '../../tests/vectors/sampling.json';
import { isAinError } from './errors.js';
import { sha256 } from './hash.js';
import {
  deriveSamplingSeed,
  detectionLowerBound,
  detectionProbability,
  sampleCheckpoints,
  samplesForConfidence,
  samplesForLowerBound,
  uniformBelow
} from './sampling.js';

const seedOf = (label: string) => sha256(label);

/** |a - b| within 1e-12 relative (or 1e-15 absolute near zero): the table holds correctly rounded exact values. */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(1e-15, 1e-12 * Math.abs(expected)));
}

function errorCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isAinError(e) ? e.code : `not an AinError: ${String(e)}`;
  }
  return undefined;
}

describe('shared vectors (tests/vectors/sampling.json, computed with exact fractions and Python Keccak)', () => {
  it.each(vectors.deriveSamplingSeed.map(v => [v.seed, v] as const))('deriveSamplingSeed -> %s', (_, v) => {
    expect(deriveSamplingSeed(v.clientSecret, v.blockHash)).toBe(v.seed);
  });

  it.each(vectors.sampleCheckpoints.map(v => [v.n, v.k, v] as const))(
    'sampleCheckpoints n=%d k=%d',
    (_, __, v) => {
      expect(sampleCheckpoints({ n: v.n, k: v.k, seed: v.seed })).toEqual(v.indices);
    }
  );

  it.each(vectors.detectionProbability.map(v => [v.n, v.m, v.k, v] as const))(
    'detectionProbability(%d, %d, %d)',
    (_, __, ___, v) => {
      expectNear(detectionProbability(v.n, v.m, v.k), v.probability);
    }
  );

  it.each(vectors.samplesForConfidence.map(v => [v.n, v.m, v.confidence, v] as const))(
    'samplesForConfidence(%d, %d, %d)',
    (_, __, ___, v) => {
      expect(samplesForConfidence(v.n, v.m, v.confidence)).toBe(v.k);
    }
  );

  it.each(vectors.detectionLowerBound.map(v => [v.f, v.k, v] as const))(
    'detectionLowerBound(%d, %d)',
    (_, __, v) => {
      expectNear(detectionLowerBound(v.f, v.k), v.bound);
    }
  );

  it.each(vectors.samplesForLowerBound.map(v => [v.f, v.confidence, v] as const))(
    'samplesForLowerBound(%d, %d)',
    (_, __, v) => {
      expect(samplesForLowerBound(v.f, v.confidence)).toBe(v.k);
    }
  );
});

describe("FIELD-NOTES' figures", () => {
  it('needs 44 samples for 99% at f = 10% whatever n is, and 36 when n = 100, m = 10', () => {
    expect(samplesForLowerBound(0.1, 0.99)).toBe(44);
    expect(samplesForConfidence(100, 10, 0.99)).toBe(36);
    expect(detectionProbability(100, 10, 35)).toBeLessThan(0.99);
  });

  it('the exact probability is never below the bound 1-(1-f)^k', () => {
    for (const [n, m] of [
      [10, 1],
      [100, 10],
      [100, 37],
      [1000, 5]
    ]) {
      for (let k = 0; k <= n; k += Math.max(1, Math.floor(n / 50))) {
        const exact = detectionProbability(n, m, k);
        expect(exact).toBeGreaterThanOrEqual(detectionLowerBound(m / n, k) - 1e-15);
        if (k > 0) {
          expect(exact).toBeGreaterThanOrEqual(detectionProbability(n, m, k - 1));
        }
      }
    }
  });
});

describe('deriveSamplingSeed', () => {
  it("is Solidity's keccak256(abi.encodePacked(bytes32, bytes32))", () => {
    const secret = seedOf('secret');
    const block = seedOf('block');
    expect(deriveSamplingSeed(secret, block)).toBe(
      solidityPackedKeccak256(['bytes32', 'bytes32'], [secret, block])
    );
  });

  it.each([['0x12'], ['not hex'], [undefined]])('rejects %p', bad => {
    expect(errorCode(() => deriveSamplingSeed(bad as string, seedOf('b')))).toBe('SAMPLING_INVALID_ARGUMENT');
    expect(errorCode(() => deriveSamplingSeed(seedOf('a'), bad as string))).toBe('SAMPLING_INVALID_ARGUMENT');
  });
});

describe('sampleCheckpoints', () => {
  it('returns k distinct indices of 0..n-1, sorted, the same for the same seed', () => {
    for (let t = 0; t < 50; t++) {
      const seed = seedOf(`props-${t}`);
      const n = 1 + ((t * 7) % 60);
      const k = t % (n + 1);
      const sample = sampleCheckpoints({ n, k, seed });
      expect(sample).toHaveLength(k);
      expect(new Set(sample).size).toBe(k);
      expect(sample.every(i => Number.isInteger(i) && i >= 0 && i < n)).toBe(true);
      expect([...sample].sort((a, b) => a - b)).toEqual(sample);
      expect(sampleCheckpoints({ n, k, seed })).toEqual(sample);
    }
  });

  it('returns everything when k >= n, and nothing when n = 0', () => {
    expect(sampleCheckpoints({ n: 4, k: 4, seed: seedOf('x') })).toEqual([0, 1, 2, 3]);
    expect(sampleCheckpoints({ n: 4, k: 99, seed: seedOf('x') })).toEqual([0, 1, 2, 3]);
    expect(sampleCheckpoints({ n: 0, k: 3, seed: seedOf('x') })).toEqual([]);
  });

  it('depends on the seed', () => {
    const a = sampleCheckpoints({ n: 1000, k: 10, seed: seedOf('a') });
    const b = sampleCheckpoints({ n: 1000, k: 10, seed: seedOf('b') });
    expect(a).not.toEqual(b);
  });

  // Chi-square over deterministic seeds, so the test cannot flake. With 9 and 14 degrees of freedom, 40 and 50 are
  // far in the tail (p < 1e-5) for a uniform sampler, yet a bias of a few percent on one index would exceed them.
  it('picks every index equally often', () => {
    const n = 10;
    const k = 3;
    const trials = 4000;
    const counts = new Array<number>(n).fill(0);
    for (let t = 0; t < trials; t++) {
      for (const i of sampleCheckpoints({ n, k, seed: seedOf(`uniform-${t}`) })) {
        counts[i]++;
      }
    }
    const expected = (trials * k) / n;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(40);
  });

  it('picks every subset equally often', () => {
    const trials = 4500;
    const counts = new Map<string, number>();
    for (let t = 0; t < trials; t++) {
      const key = sampleCheckpoints({ n: 6, k: 2, seed: seedOf(`subset-${t}`) }).join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(15);
    const expected = trials / 15;
    const chi2 = [...counts.values()].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(50);
  });

  it.each([
    [{ n: -1, k: 1 }],
    [{ n: 1.5, k: 1 }],
    [{ n: 2 ** 32 + 1, k: 1 }],
    [{ n: 10, k: -1 }],
    [{ n: 10, k: NaN }],
    [{ n: Infinity, k: 1 }]
  ])('rejects %p', args => {
    expect(errorCode(() => sampleCheckpoints({ ...args, seed: seedOf('x') }))).toBe(
      'SAMPLING_INVALID_ARGUMENT'
    );
  });

  it('rejects a seed that is not 32 bytes', () => {
    expect(errorCode(() => sampleCheckpoints({ n: 5, k: 5, seed: '0x1234' }))).toBe(
      'SAMPLING_INVALID_ARGUMENT'
    );
  });
});

describe('uniformBelow', () => {
  it('rejects words at or above the largest multiple of the bound, then reduces', () => {
    // 2^256 mod 3 = 1, so 2^256 - 1 is the first rejected word.
    const words = [(1n << 256n) - 1n, (1n << 256n) - 2n];
    let drawn = 0;
    expect(uniformBelow(() => words[drawn++], 3n)).toBe(((1n << 256n) - 2n) % 3n);
    expect(drawn).toBe(2);
  });

  it('never rejects when the bound divides 2^256', () => {
    let drawn = 0;
    expect(uniformBelow(() => (drawn++, (1n << 256n) - 1n), 1n << 8n)).toBe(255n);
    expect(drawn).toBe(1);
  });

  it('rejects a bound of 0', () => {
    expect(errorCode(() => uniformBelow(() => 0n, 0n))).toBe('SAMPLING_INVALID_ARGUMENT');
  });
});

describe('detection functions', () => {
  it('has the edge values', () => {
    expect(detectionProbability(10, 0, 5)).toBe(0);
    expect(detectionProbability(10, 0, 20)).toBe(0);
    expect(detectionProbability(0, 0, 0)).toBe(0);
    expect(detectionProbability(1, 1, 1)).toBe(1);
    expect(detectionProbability(10, 3, 0)).toBe(0);
    expect(detectionProbability(10, 3, 8)).toBe(1);
    expect(detectionProbability(10, 3, 50)).toBe(1);
    expect(detectionLowerBound(0.3, 0)).toBe(0);
    expect(detectionLowerBound(1, 2)).toBe(1);
    expect(samplesForConfidence(10, 3, 0)).toBe(0);
    expect(samplesForConfidence(10, 3, 1)).toBe(8);
  });

  it('keeps tiny probabilities accurate', () => {
    expectNear(detectionProbability(1e9, 1, 1), 1e-9);
    expectNear(detectionLowerBound(1e-12, 3), 3e-12 - 3e-24);
  });

  it.each([
    ['m > n', () => detectionProbability(10, 11, 1)],
    ['negative k', () => detectionProbability(10, 1, -1)],
    ['fractional m', () => detectionProbability(10, 1.5, 1)],
    ['confidence above 1', () => samplesForConfidence(10, 1, 1.5)],
    ['confidence NaN', () => samplesForConfidence(10, 1, NaN)],
    ['nothing to detect', () => samplesForConfidence(10, 0, 0.5)],
    ['f above 1', () => detectionLowerBound(1.1, 1)],
    ['negative f', () => detectionLowerBound(-0.1, 1)],
    ['f = 0', () => samplesForLowerBound(0, 0.9)],
    ['confidence 1 with f < 1', () => samplesForLowerBound(0.5, 1)]
  ])('rejects %s', (_, f) => {
    expect(errorCode(f)).toBe('SAMPLING_INVALID_ARGUMENT');
  });
});
