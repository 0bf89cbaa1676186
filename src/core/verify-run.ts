/**
 * The verification engine (DESIGN.md "The idea it implements"): re-executes a run's steps through any
 * ICellExecutor and compares them with what the provider signed, at one of three levels, into one report that
 * the CLI prints, the extension shows as badges and a verifier attests on-chain.
 * - execution: every step in order, every step compared;
 * - checkpoint: steps in order up to the last sampled checkpoint, only the sampled checkpoints' steps compared,
 *   and each sampled checkpoint's anchored root checked against the Merkle root of the signed receipts;
 * - solution: only the objective cells, against the artifacts the receipts committed to (verify-solution.ts).
 */
import type { IAinNotebookEvidence, IAinVerificationRecord } from './evidence.js';
import { isAinError } from './errors.js';
import { Hex32, ZERO_HASH } from './hash.js';
import { ReceiptTree } from './merkle.js';
import { compareOutputs, OutputComparison } from './outputs-compare.js';
import { outputHash } from './outputs-normalize.js';
import { ComparisonOptions, comparisonOptionsFromTags } from './outputs-tolerance.js';
import type {
  ICellExecutor,
  IEvidenceSource,
  IStepResult,
  IVerificationReport,
  IVerifyOptions,
  StepVerdict
} from './verification.js';
import { checkpointPlan, checkpointSummary, ICheckpointPlan } from './verify-checkpoints.js';
import {
  claimedOutputs,
  DEFAULT_CELL_TIMEOUT_MS,
  IVerifyContext,
  listSteps,
  resultRoot,
  verifyContext
} from './verify-context.js';

export { DEFAULT_CELL_TIMEOUT_MS };
import { verifySolution } from './verify-solution.js';

const PASSED: readonly StepVerdict[] = ['identical', 'normalized-equal', 'within-tolerance'];
const FAILED: readonly StepVerdict[] = ['differs', 'unsigned-outputs'];

/**
 * Verifies the notebook's run (options.runId, else its latest run with receipts) at options.level. Never throws:
 * bad input, a missing salt or a failing kernel give outcome 'error' with the reason in `error` and `summary`.
 */
export async function verifyNotebook(
  notebook: object,
  evidence: IAinNotebookEvidence,
  executor: ICellExecutor,
  source: IEvidenceSource,
  options: IVerifyOptions
): Promise<IVerificationReport> {
  const started = Date.now();
  const report: IVerificationReport = {
    level: options.level,
    runId: options.runId ?? ZERO_HASH,
    executor: executor.label,
    outcome: 'error',
    summary: '',
    steps: [],
    attestation: { verdict: 'mismatch', receiptCount: 0, resultRoot: ZERO_HASH, score: '0' },
    startedAt: new Date(started).toISOString(),
    ms: 0
  };
  try {
    const ctx = verifyContext(notebook, evidence, options);
    report.runId = ctx.run.runId;
    report.attestation.receiptCount = ctx.steps.length;
    if (options.level === 'solution') {
      await verifySolution(ctx, executor, source, options, report);
    } else {
      await verifySteps(ctx, executor, source, options, report);
    }
  } catch (e) {
    report.outcome = 'error';
    report.error = isAinError(e) || e instanceof Error ? e.message : String(e);
    report.summary = `Could not verify: ${report.error}`;
  }
  report.ms = Date.now() - started;
  return report;
}

/** The execution and checkpoint levels. */
async function verifySteps(
  ctx: IVerifyContext,
  executor: ICellExecutor,
  source: IEvidenceSource,
  options: IVerifyOptions,
  report: IVerificationReport
): Promise<void> {
  let plan: ICheckpointPlan | undefined;
  if (options.level === 'checkpoint') {
    if (!options.sampling) {
      report.error =
        "Checkpoint verification needs the run's anchored checkpoints and its revealed sampling secret " +
        '(options.sampling, read from the chain); give them, or verify at the execution level.';
      report.summary = `Could not verify: ${report.error}`;
      return;
    }
    plan = checkpointPlan(options.sampling);
    report.checkpoint = checkpointSummary(plan, ctx.steps.length, options.falsifiedFraction ?? 0.3);
  }
  const sampled = plan ? new Map(plan.ranges.flatMap(r => rangeSteps(r).map(step => [step, r.index]))) : null;
  const last = plan ? plan.lastStep : Infinity;
  const toRun = ctx.steps.filter(s => s.step <= last);
  const hashes = new Map<number, Hex32>();
  const missingCode: number[] = [];
  let done = 0;
  for (const s of ctx.steps) {
    const base = {
      step: s.step,
      ...(s.cellId !== undefined ? { cellId: s.cellId } : {}),
      ...(s.cellIndex !== undefined ? { cellIndex: s.cellIndex } : {}),
      ...(sampled?.has(s.step) ? { checkpoint: sampled.get(s.step) } : {})
    };
    if (s.step > last) {
      report.steps.push({
        ...base,
        verdict: 'not-sampled',
        detail: 'Not in a sampled checkpoint; not re-executed.'
      });
      continue;
    }
    let result: IStepResult;
    if (s.code === undefined) {
      missingCode.push(s.step);
      result = {
        ...base,
        verdict: 'unavailable',
        detail:
          `No cell of the notebook has the code step ${s.step} ran (codeHash ` +
          `${s.record.signed.receipt.codeHash.slice(0, 10)}…); not re-executed.`
      };
    } else {
      let executed;
      try {
        executed = await executor.execute(s.code, {
          ...(s.cellId !== undefined ? { cellId: s.cellId } : {}),
          timeoutMs: options.cellTimeoutMs ?? DEFAULT_CELL_TIMEOUT_MS
        });
      } catch (e) {
        report.error = `The kernel (${executor.label}) failed at step ${s.step}: ${(e as Error).message ?? String(e)}`;
        report.summary = `Could not verify: ${report.error}`;
        return;
      }
      const ms = executed.ms;
      if (executed.status === 'timeout') {
        result = {
          ...base,
          verdict: 'unavailable',
          ms,
          reproduced: executed.outputs,
          detail: `Did not finish within ${Math.round((options.cellTimeoutMs ?? DEFAULT_CELL_TIMEOUT_MS) / 1000)} s on ${executor.label} (interrupted); not compared.`
        };
      } else {
        hashes.set(s.step, outputHash(executed.outputs, ctx.salt));
        if (sampled && !sampled.has(s.step)) {
          result = {
            ...base,
            verdict: 'not-sampled',
            ms,
            detail: 'Re-executed for the state of later steps; not in a sampled checkpoint, so not compared.'
          };
        } else {
          const claimed = await claimedOutputs(ctx, s, source);
          if (!claimed.ok) {
            result = {
              ...base,
              verdict: claimed.verdict,
              ms,
              reproduced: executed.outputs,
              detail: claimed.detail
            };
          } else {
            const compare = comparisonOptionsFromTags(s.tags, { rtol: options.rtol, atol: options.atol });
            const comparison = compareOutputs(claimed.outputs, executed.outputs, compare);
            result = {
              ...base,
              verdict: comparison.verdict,
              comparison,
              claimed: claimed.outputs,
              reproduced: executed.outputs,
              ms,
              detail: comparisonDetail(comparison, compare, executor.label)
            };
          }
        }
      }
    }
    report.steps.push(result);
    done++;
    options.onProgress?.({
      done,
      total: toRun.length,
      message: `cell ${done} of ${toRun.length} (step ${s.step}): ${progressPhrase(result.verdict)}`
    });
  }
  const contradicted = plan && options.sampling ? contradictions(ctx, plan, options.sampling.anchored) : [];
  if (report.checkpoint && contradicted.length) {
    report.checkpoint.contradicted = contradicted;
  }
  const failed = report.steps.filter(s => FAILED.includes(s.verdict));
  const compared = report.steps.filter(s => PASSED.includes(s.verdict) || FAILED.includes(s.verdict));
  report.outcome =
    failed.length || contradicted.length ? 'mismatch' : compared.length === 0 ? 'error' : 'verified';
  report.attestation = {
    verdict: report.outcome === 'mismatch' ? 'mismatch' : 'reproduced',
    receiptCount: ctx.steps.length,
    resultRoot: resultRoot(hashes),
    score: String(report.outcome === 'mismatch' ? failed.length + contradicted.length : 0)
  };
  report.summary = stepsSummary(report, executor.label, missingCode, contradicted);
  if (report.outcome === 'error') {
    report.error = report.summary;
  }
}

function cells(n: number): string {
  return `${n} cell${n === 1 ? '' : 's'}`;
}

function rangeSteps(r: { firstStep: number; lastStep: number }): number[] {
  return Array.from({ length: r.lastStep - r.firstStep + 1 }, (_, i) => r.firstStep + i);
}

/** Sampled checkpoints whose anchored root is not the root of the run's signed receipts 0 .. receiptCount-1. */
function contradictions(
  ctx: IVerifyContext,
  plan: ICheckpointPlan,
  anchored: { index: number; root: Hex32; receiptCount: number }[]
): NonNullable<NonNullable<IVerificationReport['checkpoint']>['contradicted']> {
  const byStep = new Map(ctx.steps.map(s => [s.step, s]));
  const found = [];
  for (const index of plan.sampledIndexes) {
    const c = anchored.find(a => a.index === index);
    if (!c) {
      continue;
    }
    const digests = Array.from({ length: c.receiptCount }, (_, step) => byStep.get(step)?.digest);
    if (digests.some(d => d === undefined)) {
      // The notebook lacks some of the receipts: the root cannot be recomputed, which proves nothing either way.
      continue;
    }
    const root = new ReceiptTree(digests as Hex32[]).root;
    if (root !== c.root) {
      found.push({
        index,
        anchoredRoot: c.root,
        receiptsRoot: root,
        reason:
          `checkpoint ${index}'s anchored root ${c.root.slice(0, 10)}… is not the Merkle root of the provider's ` +
          `signed receipts 0-${c.receiptCount - 1} (${root.slice(0, 10)}…): it anchored something else than it signed`
      });
    }
  }
  return found;
}

function comparisonDetail(comparison: OutputComparison, options: ComparisonOptions, label: string): string {
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
      return `Differs from the signed outputs at ${where}: ${d.reason}; expected ${JSON.stringify(d.expected)}, reproduced ${JSON.stringify(d.actual)}.`;
    }
  }
}

function progressPhrase(verdict: StepVerdict): string {
  return (
    {
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
    } as Record<StepVerdict, string>
  )[verdict];
}

function stepsSummary(
  report: IVerificationReport,
  label: string,
  missingCode: number[],
  contradicted: { reason: string }[]
): string {
  const count = (v: StepVerdict) => report.steps.filter(s => s.verdict === v).length;
  const stepsOf = (vs: readonly StepVerdict[]) =>
    report.steps.filter(s => vs.includes(s.verdict)).map(s => s.step);
  const compared = stepsOf([...PASSED, ...FAILED]).length;
  const parts: string[] = [];
  if (report.outcome === 'mismatch') {
    const failed = stepsOf(FAILED);
    if (failed.length) {
      const unsigned = stepsOf(['unsigned-outputs']);
      parts.push(
        `${failed.length} of ${cells(compared)} differ: steps ${listSteps(failed)}` +
          (unsigned.length ? ` (outputs the provider did not sign: steps ${listSteps(unsigned)})` : '')
      );
    }
    parts.push(...contradicted.map(c => c.reason));
  } else if (compared > 0) {
    const kinds = [
      [count('identical'), 'identical'],
      [count('normalized-equal'), 'equal after normalization'],
      [count('within-tolerance'), 'within tolerance']
    ]
      .filter(([n]) => n)
      .map(([n, what]) => `${n} ${what}`);
    parts.push(`${cells(compared)} reproduced on ${label} (${kinds.join(', ')})`);
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
      `the code of steps ${listSteps(missingCode)} is not in the notebook, so later steps ran without its effects and their state may differ`
    );
  }
  if (report.checkpoint) {
    const checked = report.checkpoint.sampledIndexes;
    parts.unshift(`Checkpoints ${checked.join(', ') || 'none'} re-checked`);
    parts.push(report.checkpoint.statement);
  }
  return parts.join('; ');
}

/**
 * The metadata.ain records of a report: one per compared step. Execution level: 'reproduced' or 'mismatch';
 * checkpoint level: 'checkpoint-checked' (with the probability statement) or 'mismatch', and 'mismatch' for every
 * step of a checkpoint whose anchored root contradicts the receipts; solution level: 'objective-verified' or
 * 'mismatch'. Steps not compared (skipped, unavailable, not sampled) get none.
 */
export function verificationRecords(
  report: IVerificationReport,
  at: string,
  verifier?: string
): IAinVerificationRecord[] {
  const contradicted = new Map((report.checkpoint?.contradicted ?? []).map(c => [c.index, c.reason]));
  const records: IAinVerificationRecord[] = [];
  for (const s of report.steps) {
    const against = s.checkpoint !== undefined ? contradicted.get(s.checkpoint) : undefined;
    let level: IAinVerificationRecord['level'] | undefined;
    let detail = s.detail;
    if (FAILED.includes(s.verdict) || s.verdict === 'objective-fail') {
      level = 'mismatch';
    } else if (s.verdict === 'objective-pass') {
      level = 'objective-verified';
    } else if (PASSED.includes(s.verdict)) {
      level = report.level === 'checkpoint' ? 'checkpoint-checked' : 'reproduced';
      if (report.checkpoint) {
        detail = `${s.detail} Checked by sampling: ${report.checkpoint.statement}.`;
      }
    }
    if (against) {
      level = 'mismatch';
      detail = `${s.detail} But ${against}.`;
    }
    if (!level) {
      continue;
    }
    records.push({
      runId: report.runId,
      ...(s.cellId !== undefined ? { cellId: s.cellId } : {}),
      step: s.step,
      level,
      detail,
      method: report.level,
      executor: report.executor,
      verdict: s.verdict,
      ...(s.objective
        ? {
            objective: {
              metric: s.objective.recomputed,
              claimed: s.objective.claimed,
              rule: s.objective.rule.text
            }
          }
        : {}),
      ...(verifier ? { verifier } : {}),
      at
    });
  }
  return records;
}
