/**
 * The sentences of a verification report: one per step (the badge and the CLI table show it), a progress phrase,
 * and the report's one-line summary.
 */
import type { OutputComparison } from './outputs-compare.js';
import type { ComparisonOptions } from './outputs-tolerance.js';
import type { IVerificationReport, StepVerdict } from './verification.js';
import { listSteps } from './verify-context.js';

/** Verdicts of a step that was compared and reproduced, and of one that was compared and did not. */
export const PASSED: readonly StepVerdict[] = ['identical', 'normalized-equal', 'within-tolerance'];
export const FAILED: readonly StepVerdict[] = ['differs', 'unsigned-outputs'];

export function cells(n: number): string {
  return `${n} cell${n === 1 ? '' : 's'}`;
}

/** What a comparison found, for a person. */
export function comparisonDetail(
  comparison: OutputComparison,
  options: ComparisonOptions,
  label: string
): string {
  switch (comparison.verdict) {
    case 'identical':
      return `Reproduced on ${label}: identical outputs.`;
    case 'normalized-equal':
      return `Reproduced on ${label}: equal after normalization (addresses, times, ids and the like masked).`;
    case 'within-tolerance':
      return `Reproduced on ${label}: numbers within tolerance (rtol ${options.rtol}, atol ${options.atol}).`;
    case 'skipped':
      return 'Not compared: the cell is tagged ain:compare=skip.';
    default: {
      const d = comparison.firstDifference;
      if (!d) {
        return `Differs from the signed outputs on ${label}.`;
      }
      const where =
        `output ${d.outputIndex + 1}${d.mimeType ? ` (${d.mimeType})` : ''}` +
        (d.line !== undefined ? `, line ${d.line} column ${d.column}` : '');
      return (
        `Differs from the signed outputs at ${where}: ${d.reason}; expected ${JSON.stringify(d.expected)}, ` +
        `reproduced ${JSON.stringify(d.actual)}.`
      );
    }
  }
}

const PHRASES: Record<StepVerdict, string> = {
  identical: 'reproduced, identical',
  'normalized-equal': 'reproduced, equal after normalization',
  'within-tolerance': 'reproduced, within tolerance',
  differs: 'differs',
  skipped: 'skipped (ain:compare=skip)',
  'unsigned-outputs': 'outputs not signed by the provider',
  unavailable: 'not compared',
  'not-sampled': 're-executed (not sampled)',
  'objective-pass': 'objective met',
  'objective-fail': 'objective failed'
};

/** The verdict in a few words, for progress lines: "reproduced, within tolerance". */
export function progressPhrase(verdict: StepVerdict): string {
  return PHRASES[verdict];
}

/**
 * The summary of an execution or checkpoint verification: "12 cells reproduced on local kernel (python3):
 * 9 identical, 3 within tolerance" or "2 of 12 cells differ: steps 3, 7", then what was skipped or could not be
 * compared, contradicted checkpoints, other `notes`, and the checkpoint statement.
 */
export function stepsSummary(
  report: IVerificationReport,
  label: string,
  missingCode: number[],
  notes: string[]
): string {
  const count = (v: StepVerdict) => report.steps.filter(s => s.verdict === v).length;
  const stepsOf = (vs: readonly StepVerdict[]) =>
    report.steps.filter(s => vs.includes(s.verdict)).map(s => s.step);
  const compared = stepsOf([...PASSED, ...FAILED]).length;
  const failed = stepsOf(FAILED);
  const parts: string[] = [];
  if (failed.length) {
    const unsigned = stepsOf(['unsigned-outputs']);
    parts.push(
      `${failed.length} of ${cells(compared)} differ: steps ${listSteps(failed)}` +
        (unsigned.length ? ` (outputs the provider did not sign: steps ${listSteps(unsigned)})` : '')
    );
  } else if (compared > 0) {
    const kinds = (
      [
        [count('identical'), 'identical'],
        [count('normalized-equal'), 'equal after normalization'],
        [count('within-tolerance'), 'within tolerance']
      ] as [number, string][]
    )
      .filter(([n]) => n)
      .map(([n, what]) => `${n} ${what}`);
    parts.push(`${cells(compared)} reproduced on ${label}: ${kinds.join(', ')}`);
  } else {
    parts.push(`Nothing could be compared on ${label}`);
  }
  if (count('skipped')) {
    parts.push(`${count('skipped')} skipped (ain:compare=skip)`);
  }
  const unavailable = stepsOf(['unavailable']);
  if (unavailable.length) {
    parts.push(`${unavailable.length} not compared: steps ${listSteps(unavailable)}`);
  }
  if (missingCode.length) {
    parts.push(
      `the code of steps ${listSteps(missingCode)} is not in the notebook, so later steps ran without its ` +
        'effects and their state may differ'
    );
  }
  parts.push(...notes);
  if (report.checkpoint) {
    const checked = report.checkpoint.sampledIndexes;
    parts.unshift(`Checkpoints ${checked.join(', ') || 'none'} re-checked`);
    parts.push(report.checkpoint.statement);
  }
  return parts.join('; ');
}
