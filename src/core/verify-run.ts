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
import { compareOutputs } from './outputs-compare.js';
import { outputHash } from './outputs-normalize.js';
import { comparisonOptionsFromTags } from './outputs-tolerance.js';
import type {
  ICellExecutor,
  IEvidenceSource,
  IStepResult,
  IVerificationReport,
  IVerifyOptions
} from './verification.js';
import { checkpointPlan, checkpointRoots, checkpointSummary, ICheckpointPlan } from './verify-checkpoints.js';
import {
  claimedOutputs,
  DEFAULT_CELL_TIMEOUT_MS,
  IStepContext,
  IVerifyContext,
  listSteps,
  resultRoot,
  verifyContext
} from './verify-context.js';
import { verifySolution } from './verify-solution.js';
import { comparisonDetail, FAILED, PASSED, progressPhrase, stepsSummary } from './verify-text.js';

export { DEFAULT_CELL_TIMEOUT_MS };

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

/** Thrown inside a verification to end it with outcome 'error' and this message. */
class Stop extends Error {}

/** The execution and checkpoint levels. */
async function verifySteps(
  ctx: IVerifyContext,
  executor: ICellExecutor,
  source: IEvidenceSource,
  options: IVerifyOptions,
  report: IVerificationReport
): Promise<void> {
  const plan = options.level === 'checkpoint' ? samplingPlan(options) : undefined;
  // Bad comparison tags fail now, not after an hour of re-execution.
  ctx.steps.forEach(s => comparisonOptionsFromTags(s.tags, { rtol: options.rtol, atol: options.atol }));
  const sampled = plan ? new Map(plan.steps.map(step => [step, checkpointOf(plan, step)])) : null;
  const last = plan ? plan.lastStep : Infinity;
  const total = ctx.steps.filter(s => s.step <= last).length;
  const hashes = new Map<number, Hex32>();
  const missingCode: number[] = [];
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
    if (s.code === undefined) {
      missingCode.push(s.step);
    }
    const result: IStepResult = {
      ...base,
      ...(await runStep(ctx, s, executor, source, options, hashes, sampled === null || sampled.has(s.step)))
    };
    report.steps.push(result);
    options.onProgress?.({
      done: report.steps.length,
      total,
      message: `cell ${report.steps.length} of ${total} (step ${s.step}): ${progressPhrase(result.verdict)}`
    });
  }
  const notes: string[] = [];
  const compared = report.steps.filter(s => PASSED.includes(s.verdict) || FAILED.includes(s.verdict));
  let contradicted = 0;
  if (plan && options.sampling) {
    const byStep = new Map(ctx.steps.map(s => [s.step, s.digest]));
    const roots = checkpointRoots(plan, options.sampling.anchored, step => byStep.get(step));
    contradicted = roots.contradicted.length;
    notes.push(...roots.contradicted.map(c => c.reason));
    notes.push(
      ...roots.unchecked.map(
        u =>
          `checkpoint ${u.index}'s root was not recomputed: the notebook lacks the receipts of steps ${listSteps(u.missing)}`
      )
    );
    // The probability holds for the checkpoints actually compared, not for those the sample named.
    const checked = compared.filter(s => s.checkpoint !== undefined).map(s => s.step);
    report.checkpoint = {
      ...checkpointSummary(plan, ctx.steps.length, options.falsifiedFraction ?? 0.3, checked),
      ...(contradicted ? { contradicted: roots.contradicted } : {})
    };
  }
  const failed = report.steps.filter(s => FAILED.includes(s.verdict));
  report.outcome = failed.length || contradicted ? 'mismatch' : compared.length === 0 ? 'error' : 'verified';
  report.attestation = {
    verdict: report.outcome === 'mismatch' ? 'mismatch' : 'reproduced',
    receiptCount: ctx.steps.length,
    resultRoot: resultRoot(hashes),
    score: String(report.outcome === 'mismatch' ? failed.length + contradicted : 0)
  };
  report.summary = stepsSummary(report, executor.label, missingCode, notes);
  if (report.outcome === 'error') {
    report.error = report.summary;
  }
}

function samplingPlan(options: IVerifyOptions): ICheckpointPlan {
  if (!options.sampling) {
    throw new Stop(
      "Checkpoint verification needs the run's anchored checkpoints and its revealed sampling secret " +
        '(options.sampling, read from the chain); give them, or verify at the execution level.'
    );
  }
  const plan = checkpointPlan(options.sampling);
  if (plan.anchoredCount === 0) {
    throw new Stop(
      'The run has no anchored checkpoint to sample (none was anchored before the sampling secret was ' +
        'revealed); verify at the execution level instead.'
    );
  }
  return plan;
}

function checkpointOf(plan: ICheckpointPlan, step: number): number {
  return (plan.ranges.find(r => step >= r.firstStep && step <= r.lastStep) as { index: number }).index;
}

/** Re-executes one step (when its code is known) and compares it (when `compare`). */
async function runStep(
  ctx: IVerifyContext,
  s: IStepContext,
  executor: ICellExecutor,
  source: IEvidenceSource,
  options: IVerifyOptions,
  hashes: Map<number, Hex32>,
  compare: boolean
): Promise<Omit<IStepResult, 'step'>> {
  if (s.code === undefined) {
    return {
      verdict: 'unavailable',
      detail:
        `No cell of the notebook has the code step ${s.step} ran (codeHash ` +
        `${s.record.signed.receipt.codeHash.slice(0, 10)}…); not re-executed.`
    };
  }
  const timeoutMs = options.cellTimeoutMs ?? DEFAULT_CELL_TIMEOUT_MS;
  let executed;
  try {
    executed = await executor.execute(s.code, {
      ...(s.cellId !== undefined ? { cellId: s.cellId } : {}),
      timeoutMs
    });
  } catch (e) {
    throw new Stop(
      `The kernel (${executor.label}) failed at step ${s.step}: ${(e as Error).message ?? String(e)}`
    );
  }
  const { ms, outputs } = executed;
  if (executed.status === 'timeout') {
    return {
      verdict: 'unavailable',
      ms,
      reproduced: outputs,
      detail: `Did not finish within ${Math.round(timeoutMs / 1000)} s on ${executor.label} (interrupted); not compared.`
    };
  }
  hashes.set(s.step, outputHash(outputs, ctx.salt));
  if (!compare) {
    return {
      verdict: 'not-sampled',
      ms,
      detail: 'Re-executed for the state of later steps; not in a sampled checkpoint, so not compared.'
    };
  }
  const claimed = await claimedOutputs(ctx, s, source);
  if (!claimed.ok) {
    return { verdict: claimed.verdict, ms, reproduced: outputs, detail: claimed.detail };
  }
  const tolerance = comparisonOptionsFromTags(s.tags, { rtol: options.rtol, atol: options.atol });
  const comparison = compareOutputs(claimed.outputs, outputs, tolerance);
  return {
    verdict: comparison.verdict,
    comparison,
    claimed: claimed.outputs,
    reproduced: outputs,
    ms,
    detail: comparisonDetail(comparison, tolerance, executor.label)
  };
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
