/**
 * Checkpoint-sampling policy: which checkpoints a verifier re-checks, and how many it must re-check.
 *
 * A verifier re-executes k of a run's n checkpoints. If the provider falsified m of them, the chance that the
 * sample contains at least one falsified checkpoint is `1 - C(n-m, k) / C(n, k)`, which is at least
 * `1 - (1 - f)^k` with `f = m / n`. The sample must be unpredictable to the provider and yet reproducible by anyone
 * (and later by a contract), so it is derived from a seed that mixes a client secret, revealed after the provider
 * has committed, with a block hash.
 */
import { getBytes } from 'ethers';
import { makeError } from './errors.js';
import { Hex32, keccak256 } from './hash.js';

const TWO_256 = 1n << 256n;
// Step indices are uint32 in receipts.
const MAX_CHECKPOINTS = 2 ** 32;
const HEX32 = /^0x[0-9a-fA-F]{64}$/;

/**
 * The sampling seed: `keccak256(clientSecret || blockHash)` over the two 32-byte values, i.e. Solidity's
 * `keccak256(abi.encodePacked(bytes32 secret, bytes32 blockHash))`.
 */
export function deriveSamplingSeed(clientSecret: Hex32, blockHash: Hex32): Hex32 {
  const message = new Uint8Array(64);
  message.set(bytes32(clientSecret, 'clientSecret'), 0);
  message.set(bytes32(blockHash, 'blockHash'), 32);
  return keccak256(message);
}

/**
 * Chooses `k` distinct checkpoint indices of `0..n-1`, uniformly among all k-subsets, from `seed` alone; returns
 * them sorted ascending, or all of `0..n-1` when `k >= n`. The procedure, so that a contract can repeat it:
 *
 *     a = [0, 1, ..., n-1]; counter = 0
 *     for i in 0..k-1:                      // partial Fisher-Yates shuffle
 *       r = n - i
 *       repeat: w = uint256(keccak256(abi.encodePacked(seed, uint256(counter)))); counter += 1
 *       until w < 2^256 - (2^256 mod r)     // rejection: no modulo bias
 *       j = i + (w mod r); swap a[i], a[j]
 *     return sort(a[0..k-1])
 *
 * Throws SAMPLING_INVALID_ARGUMENT unless n and k are integers with 0 <= n <= 2^32, k >= 0, and seed is 32 bytes.
 */
export function sampleCheckpoints({ n, k, seed }: { n: number; k: number; seed: Hex32 }): number[] {
  checkCount(n, 'n', MAX_CHECKPOINTS);
  checkCount(k, 'k', Number.MAX_SAFE_INTEGER);
  const message = new Uint8Array(64);
  message.set(bytes32(seed, 'seed'), 0);
  if (k >= n) {
    return Array.from({ length: n }, (_, i) => i);
  }
  let counter = 0;
  const nextWord = (): bigint => {
    // The counter is a big-endian uint256; it stays below 2^53, so its top 24 bytes stay zero.
    let c = counter++;
    for (let b = 63; b >= 56; b--) {
      message[b] = c % 256;
      c = Math.floor(c / 256);
    }
    return BigInt(keccak256(message));
  };
  // The shuffled array is kept sparse: only positions that were swapped are stored.
  const moved = new Map<number, number>();
  const chosen: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + Number(uniformBelow(nextWord, BigInt(n - i)));
    const picked = moved.get(j) ?? j;
    moved.set(j, moved.get(i) ?? i);
    chosen.push(picked);
  }
  return chosen.sort((x, y) => x - y);
}

/**
 * A uniform integer in `[0, bound)` from 256-bit words: words at or above the largest multiple of `bound` that
 * fits in 2^256 are rejected and another is drawn, so every residue is equally likely.
 */
export function uniformBelow(nextWord: () => bigint, bound: bigint): bigint {
  if (bound <= 0n || bound > TWO_256) {
    throw invalid(`bound must be in 1..2^256, got ${bound}`, 'pass the number of remaining candidates');
  }
  const limit = TWO_256 - (TWO_256 % bound);
  for (;;) {
    const word = nextWord();
    if (word < limit) {
      return word % bound;
    }
  }
}

/**
 * Probability that a uniform sample of `k` among `n` checkpoints contains at least one of `m` falsified ones:
 * `1 - C(n-m, k) / C(n, k)`, computed as `1 - prod_{i<k} (1 - m / (n - i))` in log space (`log1p`/`expm1`), so
 * it neither overflows like factorials nor loses small probabilities to cancellation. `k > n` counts as `n`.
 */
export function detectionProbability(n: number, m: number, k: number): number {
  checkCount(n, 'n', MAX_CHECKPOINTS);
  checkCount(m, 'm', n);
  checkCount(k, 'k', Number.MAX_SAFE_INTEGER);
  if (m === 0) {
    return 0;
  }
  if (k > n - m) {
    // Fewer than k honest checkpoints: every sample holds a falsified one (and log1p(-m / (n - i)) would be NaN).
    return 1;
  }
  let logMiss = 0;
  for (let i = 0; i < k; i++) {
    logMiss += Math.log1p(-m / (n - i));
  }
  return 0 - Math.expm1(logMiss);
}

/**
 * The smallest `k` with `detectionProbability(n, m, k) >= confidence`. Needs `1 <= m <= n` when confidence > 0
 * (with no falsified checkpoint there is nothing to detect) and `0 <= confidence <= 1`; confidence 1 needs
 * `k = n - m + 1`.
 */
export function samplesForConfidence(n: number, m: number, confidence: number): number {
  checkCount(n, 'n', MAX_CHECKPOINTS);
  checkCount(m, 'm', n);
  checkProbability(confidence, 'confidence');
  if (confidence > 0 && m === 0) {
    throw invalid('m = 0 falsified checkpoints can never be detected', 'pass m >= 1, or confidence 0');
  }
  // Same summation order as detectionProbability, so the k returned passes that function's test exactly.
  let logMiss = 0;
  for (let k = 0; ; k++) {
    if (0 - Math.expm1(logMiss) >= confidence) {
      return k;
    }
    logMiss += Math.log1p(-m / (n - k));
  }
}

/** `1 - (1 - f)^k`: the detection probability of k samples when a fraction f is falsified, for any n. */
export function detectionLowerBound(f: number, k: number): number {
  checkProbability(f, 'f');
  checkCount(k, 'k', Number.MAX_SAFE_INTEGER);
  return k === 0 ? 0 : 0 - Math.expm1(k * Math.log1p(-f));
}

/**
 * The smallest `k` with `detectionLowerBound(f, k) >= confidence`: enough samples whatever n is (for 99% at
 * f = 10%, 44). Needs `0 < f <= 1` when confidence > 0, and f = 1 for confidence 1.
 */
export function samplesForLowerBound(f: number, confidence: number): number {
  checkProbability(f, 'f');
  checkProbability(confidence, 'confidence');
  if (confidence === 0) {
    return 0;
  }
  if (f === 0 || (confidence === 1 && f < 1)) {
    throw invalid(
      `confidence ${confidence} cannot be reached with f = ${f}`,
      'pass f > 0 (and f = 1 for confidence 1)'
    );
  }
  if (f === 1) {
    return 1;
  }
  // Start from the closed form and settle the last step with the function itself, so the two always agree.
  let k = Math.max(1, Math.ceil(Math.log1p(-confidence) / Math.log1p(-f)));
  while (k > 1 && detectionLowerBound(f, k - 1) >= confidence) {
    k--;
  }
  while (detectionLowerBound(f, k) < confidence) {
    k++;
  }
  return k;
}

function checkCount(value: number, name: string, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw invalid(
      `${name} = ${String(value)} is not an integer in 0..${max}`,
      `pass ${name} as such an integer`
    );
  }
}

function checkProbability(value: number, name: string): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw invalid(`${name} = ${String(value)} is not a probability`, `pass ${name} in [0, 1]`);
  }
}

function bytes32(value: Hex32, name: string): Uint8Array {
  if (typeof value !== 'string' || !HEX32.test(value)) {
    throw invalid(`${name} is not 32 bytes of hex`, `pass ${name} as 0x and 64 hex digits`);
  }
  return getBytes(value);
}

function invalid(what: string, fix: string) {
  return makeError('SAMPLING_INVALID_ARGUMENT', `Invalid sampling argument: ${what}; ${fix}.`, { what });
}
