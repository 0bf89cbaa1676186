/**
 * Solution verification's objective: the rule a cell's tags set (`ain:objective>=0.9`, `<=`, `=`, or a bare
 * `ain:objective`), the metric a cell printed (the one number of its execute_result), and the check of a
 * recomputed metric against the rule and against the metric the provider claimed.
 */
import { makeError } from './errors.js';
import type { NbOutput } from './outputs-normalize.js';
import { isClose } from './outputs-tolerance.js';
import type { IObjectiveRule } from './verification.js';

/** The tolerance of `=` rules and of claimed == recomputed when the cell has no `ain:rtol=` / `ain:atol=` tag. */
export const OBJECTIVE_TOLERANCE: Readonly<{ rtol: number; atol: number }> = Object.freeze({
  rtol: 1e-9,
  atol: 0
});

// A decimal number as Python prints one: sign, digits, fraction, exponent.
const DECIMAL = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?';
const RULE = new RegExp(`^ain:objective(?:(>=|<=|=)(${DECIMAL}))?$`);
// A metric's repr: the number alone, or wrapped as numpy / torch / jax print scalars: `np.float64(0.97)`,
// `tensor(0.9700)`, `tensor(0.97, dtype=torch.float64)`, `Array(0.97, dtype=float32)`.
const METRIC = new RegExp(
  `^(?:(${DECIMAL})|[A-Za-z_][\\w.]*\\(\\s*(${DECIMAL})\\s*(?:,\\s*[A-Za-z_]\\w*=[^(),]*)*\\))$`
);

/**
 * The objective rules of a cell's tags: none when no tag starts with `ain:objective`. Several thresholds may be
 * given (all must hold); a bare `ain:objective` next to them adds nothing. Throws VERIFY_OBJECTIVE_INVALID for a
 * tag that starts with `ain:objective` but is not one of the accepted forms.
 */
export function objectiveRules(tags: readonly string[]): IObjectiveRule[] {
  const rules: IObjectiveRule[] = [];
  let bare = false;
  for (const raw of tags) {
    const tag = typeof raw === 'string' ? raw.trim() : '';
    if (!tag.startsWith('ain:objective')) {
      continue;
    }
    const match = RULE.exec(tag);
    if (!match) {
      throw makeError(
        'VERIFY_OBJECTIVE_INVALID',
        `Tag "${tag}" is not an objective rule: write ain:objective>=<number> (a lower bound, e.g. ` +
          'ain:objective>=0.9), ain:objective<=<number>, ain:objective=<number> (with ain:atol= / ain:rtol= as ' +
          'its tolerance), or a bare ain:objective (no threshold: only the claimed metric is re-checked).',
        { tag }
      );
    }
    if (match[1] === undefined) {
      bare = true;
      continue;
    }
    const rule: IObjectiveRule = { op: match[1] as IObjectiveRule['op'], value: Number(match[2]), text: tag };
    if (!rules.some(r => r.op === rule.op && r.value === rule.value)) {
      rules.push(rule);
    }
  }
  if (bare && rules.length === 0) {
    rules.push({ op: 'any', value: 0, text: 'ain:objective' });
  }
  return rules;
}

/** A rule as a reader sees it: ">= 0.9", "= 0.93", or "no threshold". */
export function describeRule(rule: IObjectiveRule): string {
  return rule.op === 'any' ? 'no threshold' : `${rule.op} ${rule.value}`;
}

/**
 * The metric a cell printed: the single number in the text/plain of its execute_result (`0.97`, `0.97\n`,
 * `np.float64(0.97)`, `tensor(0.97)`). Null when there is no execute_result, more than one, or its text is not
 * exactly one number (a list, a dict, a string): an ambiguous metric is no metric.
 */
export function readMetric(outputs: readonly NbOutput[]): number | null {
  const results = outputs.filter(o => o.output_type === 'execute_result');
  if (results.length !== 1) {
    return null;
  }
  const data = (results[0] as { data?: Record<string, unknown> }).data ?? {};
  const plain = data['text/plain'];
  const text = (Array.isArray(plain) ? plain.join('') : typeof plain === 'string' ? plain : '').trim();
  const match = METRIC.exec(text);
  if (!match) {
    return null;
  }
  const value = Number(match[1] ?? match[2]);
  return Number.isFinite(value) ? value : null;
}

/** Whether an objective holds, and why not. */
export interface IObjectiveCheck {
  pass: boolean;
  /** Empty when it passes; else one clause a person can read ("0.85 is below 0.9"). */
  reason: string;
}

/**
 * Checks a recomputed metric against the cell's rules and against the metric the provider claimed: it passes
 * when the recomputed metric satisfies every rule and equals the claimed one within `tolerance`
 * (`|recomputed - claimed| <= atol + rtol * |claimed|`). `=` rules use the same tolerance.
 */
export function checkObjective(
  rules: IObjectiveRule | readonly IObjectiveRule[],
  recomputed: number | null,
  claimed: number | null,
  tolerance: { rtol: number; atol: number } = OBJECTIVE_TOLERANCE
): IObjectiveCheck {
  const list = Array.isArray(rules) ? rules : [rules as IObjectiveRule];
  if (recomputed === null) {
    return { pass: false, reason: 'the re-executed cell printed no single number as its result' };
  }
  for (const rule of list) {
    const { op, value } = rule;
    if (op === '>=' && !(recomputed >= value)) {
      return { pass: false, reason: `${recomputed} is below the threshold ${value} (${rule.text})` };
    }
    if (op === '<=' && !(recomputed <= value)) {
      return { pass: false, reason: `${recomputed} is above the threshold ${value} (${rule.text})` };
    }
    if (op === '=' && !isClose(recomputed, value, tolerance.rtol, tolerance.atol)) {
      return {
        pass: false,
        reason: `${recomputed} is not ${value} within rtol ${tolerance.rtol}, atol ${tolerance.atol} (${rule.text})`
      };
    }
  }
  if (claimed === null) {
    return { pass: false, reason: 'the claimed outputs hold no single number to compare with' };
  }
  if (!isClose(recomputed, claimed, tolerance.rtol, tolerance.atol)) {
    return {
      pass: false,
      reason: `the provider claimed ${claimed}, but the metric recomputes to ${recomputed} (rtol ${tolerance.rtol}, atol ${tolerance.atol})`
    };
  }
  return { pass: true, reason: '' };
}

/**
 * A metric as the attestation's score: the number times 1e18 as a decimal integer string (int256 on-chain),
 * from its shortest decimal form and rounded half away from zero at the 18th decimal, so 0.967 gives exactly
 * "967000000000000000" (no binary floating-point residue).
 */
export function scaleMetric(value: number): string {
  if (!Number.isFinite(value)) {
    throw makeError('VERIFY_OBJECTIVE_INVALID', `The metric ${value} cannot be a score: it is not finite.`, {
      value
    });
  }
  const [mantissa, exponentText] = Math.abs(value).toString().toLowerCase().split('e');
  const [whole, fraction = ''] = mantissa.split('.');
  const shift = 18 + Number(exponentText ?? 0) - fraction.length;
  let digits = BigInt(whole + fraction);
  if (shift >= 0) {
    digits *= 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    digits = (digits + divisor / 2n) / divisor;
  }
  return (value < 0 && digits !== 0n ? '-' : '') + digits.toString();
}
