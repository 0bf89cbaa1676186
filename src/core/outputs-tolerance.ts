/**
 * Numeric tolerance for output comparison, and the per-cell options that set it.
 *
 * Floating-point results legitimately differ in the last digits between machines (BLAS builds, thread counts, CPU
 * features). Text is read as an alternation of numbers and the literal text between them: the literal parts must
 * match exactly, the numbers only within numpy's `allclose` rule `|a - b| <= atol + rtol * |b|`, where `b` is the
 * expected value (numpy's rule is not symmetric: the tolerance scales with the reference).
 */
import { makeError } from './errors.js';

/** How a cell's outputs are compared: byte for byte, after normalization, with numeric tolerance, or not at all. */
export type ComparisonMode = 'exact' | 'normalized' | 'tolerance' | 'skip';

/** Options of compareOutputs. */
export interface ComparisonOptions {
  mode: ComparisonMode;
  /** Relative tolerance, scaled by the expected value. */
  rtol: number;
  /** Absolute tolerance. */
  atol: number;
}

/** numpy's defaults (`numpy.allclose`), in tolerance mode. */
export const DEFAULT_COMPARISON_OPTIONS: Readonly<ComparisonOptions> = Object.freeze({
  mode: 'tolerance',
  rtol: 1e-5,
  atol: 1e-8
});

const MODES: readonly ComparisonMode[] = ['exact', 'normalized', 'tolerance', 'skip'];
// A tolerance as written in a tag: a plain non-negative decimal, optionally with an exponent.
const TOLERANCE_VALUE = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Reads the comparison options of a cell from its tags, over `defaults` (themselves over numpy's defaults):
 * `ain:compare=exact|normalized|tolerance|skip`, `ain:rtol=<number>`, `ain:atol=<number>` (non-negative, finite,
 * decimal or exponent form such as `1e-3` or `0.01`). Other tags, `ain:` ones included, belong to other features and
 * are ignored. Throws OUTPUT_INVALID_TOLERANCE naming the tag and the accepted form for an invalid value, and for
 * one key given two different values.
 */
export function comparisonOptionsFromTags(
  tags: readonly string[],
  defaults: Partial<ComparisonOptions> = {}
): ComparisonOptions {
  const options = resolveComparisonOptions(defaults);
  const seen = new Map<string, string>();
  for (const raw of tags) {
    if (typeof raw !== 'string') {
      continue;
    }
    const tag = raw.trim();
    const match = /^ain:(compare|rtol|atol)(?:=(.*))?$/.exec(tag);
    if (!match) {
      continue;
    }
    const key = match[1] as 'compare' | 'rtol' | 'atol';
    const value = match[2] ?? '';
    const accepted =
      key === 'compare' ? `ain:compare=${MODES.join('|')}` : `ain:${key}=<non-negative number, e.g. 1e-3>`;
    const earlier = seen.get(key);
    if (earlier !== undefined && earlier !== tag) {
      throw makeError(
        'OUTPUT_INVALID_TOLERANCE',
        `Tags "${earlier}" and "${tag}" disagree: keep one ${accepted} tag on the cell.`,
        { tag, accepted }
      );
    }
    seen.set(key, tag);
    if (key === 'compare') {
      if (!(MODES as readonly string[]).includes(value)) {
        throw makeError('OUTPUT_INVALID_TOLERANCE', `Tag "${tag}" is invalid: use ${accepted}.`, {
          tag,
          accepted
        });
      }
      options.mode = value as ComparisonMode;
    } else {
      const number = TOLERANCE_VALUE.test(value) ? Number(value) : NaN;
      if (!Number.isFinite(number)) {
        throw makeError(
          'OUTPUT_INVALID_TOLERANCE',
          `Tag "${tag}" is invalid: ${key} must be a finite, non-negative number; write ${accepted}.`,
          { tag, accepted }
        );
      }
      options[key] = number;
    }
  }
  return options;
}

/**
 * Fills `options` from the defaults and checks them. Throws OUTPUT_INVALID_TOLERANCE for an unknown mode or a
 * negative, NaN or infinite tolerance.
 */
export function resolveComparisonOptions(options: Partial<ComparisonOptions> = {}): ComparisonOptions {
  const result: ComparisonOptions = { ...DEFAULT_COMPARISON_OPTIONS };
  if (options.mode !== undefined) {
    if (!MODES.includes(options.mode)) {
      throw makeError(
        'OUTPUT_INVALID_TOLERANCE',
        `Comparison mode ${JSON.stringify(options.mode)} is invalid: use one of ${MODES.join(', ')}.`,
        { mode: options.mode }
      );
    }
    result.mode = options.mode;
  }
  for (const key of ['rtol', 'atol'] as const) {
    const value = options[key];
    if (value === undefined) {
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw makeError(
        'OUTPUT_INVALID_TOLERANCE',
        `${key} = ${String(value)} is invalid: use a finite, non-negative number (numpy's default is ${DEFAULT_COMPARISON_OPTIONS[key]}).`,
        { [key]: value }
      );
    }
    result[key] = value;
  }
  return result;
}

/**
 * numpy's `isclose(actual, expected)`: `|actual - expected| <= atol + rtol * |expected|`. Infinities are close
 * only to themselves; NaN is close to NaN (both sides printing `nan` is agreement, not a difference).
 */
export function isClose(actual: number, expected: number, rtol: number, atol: number): boolean {
  if (actual === expected) {
    return true;
  }
  if (Number.isNaN(actual) || Number.isNaN(expected)) {
    return Number.isNaN(actual) && Number.isNaN(expected);
  }
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) {
    return false;
  }
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

// A number in text: an optional sign, digits with an optional fraction (or a bare fraction), an optional exponent;
// or nan / inf / infinity. It may not continue a word or a dotted token, so `float32`, `x1` and the `3` of
// `1.2.3` stay literal text; a unit may follow (`12ms`).
const NUMBER =
  /(?<![\w.])(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf(?:inity)?)(?![\w]))/gi;

/** The value of a token NUMBER matched. */
export function parseNumberToken(token: string): number {
  const lower = token.toLowerCase();
  const sign = lower.startsWith('-') ? -1 : 1;
  const body = lower.replace(/^[+-]/, '');
  if (body === 'nan') {
    return NaN;
  }
  if (body.startsWith('inf')) {
    return sign * Infinity;
  }
  return Number(lower);
}

/** Where two texts stop agreeing under tolerance: offsets in each, and why. */
export interface TextMismatch {
  expectedOffset: number;
  actualOffset: number;
  reason: string;
}

/**
 * Compares two texts under numeric tolerance. Returns undefined when every literal part is equal and every pair
 * of numbers is close; otherwise the first place where they are not. `used` reports whether some pair of numbers
 * differed in writing but was close (else the texts are equal as strings).
 */
export function compareTextWithTolerance(
  expected: string,
  actual: string,
  rtol: number,
  atol: number,
  used: { tolerance: boolean } = { tolerance: false }
): TextMismatch | undefined {
  if (expected === actual) {
    return undefined;
  }
  const re = new RegExp(NUMBER);
  const ra = new RegExp(NUMBER);
  let ie = 0;
  let ia = 0;
  for (;;) {
    const me = re.exec(expected);
    const ma = ra.exec(actual);
    const endE = me ? me.index : expected.length;
    const endA = ma ? ma.index : actual.length;
    const literalE = expected.slice(ie, endE);
    const literalA = actual.slice(ia, endA);
    if (literalE !== literalA) {
      const k = commonPrefixLength(literalE, literalA);
      return { expectedOffset: ie + k, actualOffset: ia + k, reason: 'text differs' };
    }
    if (!me || !ma) {
      return me || ma
        ? { expectedOffset: endE, actualOffset: endA, reason: me ? 'a number is missing' : 'an extra number' }
        : undefined;
    }
    if (me[0] !== ma[0]) {
      const e = parseNumberToken(me[0]);
      const a = parseNumberToken(ma[0]);
      if (!isClose(a, e, rtol, atol)) {
        return {
          expectedOffset: me.index,
          actualOffset: ma.index,
          reason: `${ma[0]} is not within tolerance of ${me[0]} (|a-b| <= ${atol} + ${rtol}*|b|)`
        };
      }
      used.tolerance = true;
    }
    ie = re.lastIndex;
    ia = ra.lastIndex;
  }
}

/** Length of the longest common prefix of two strings. */
export function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) {
    i++;
  }
  return i;
}
