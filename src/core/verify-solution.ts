/**
 * Solution verification: for every cell tagged `ain:objective...` that the run executed, fetch the artifacts the
 * provider committed to up to that step (by sha256, checked against the receipts' artifactsHash), write them into
 * the verifier's kernel, run only the objective cell, and compare the metric it prints with the rule and with the
 * metric the provider claimed. Training is not re-run: the objective cell must be self-contained.
 */
import { Hex32, sha256, ZERO_HASH } from './hash.js';
import { codeHash } from './notebook.js';
import { outputHash } from './outputs-normalize.js';
import { comparisonOptionsFromTags } from './outputs-tolerance.js';
import { artifactsHash, IArtifact } from './receipt.js';
import type {
  ICellExecutor,
  IEvidenceSource,
  IObjectiveRule,
  IStepResult,
  IVerificationReport,
  IVerifyOptions
} from './verification.js';
import {
  claimedOutputs,
  DEFAULT_CELL_TIMEOUT_MS,
  IStepContext,
  IVerifyContext,
  listSteps,
  resultRoot
} from './verify-context.js';
import {
  checkObjective,
  describeRule,
  OBJECTIVE_TOLERANCE,
  objectiveRules,
  readMetric,
  scaleMetric
} from './verify-objective.js';

/** Fills `report` for the solution level. Throws VERIFY_INPUT_INVALID when no cell is tagged as an objective. */
export async function verifySolution(
  ctx: IVerifyContext,
  executor: ICellExecutor,
  source: IEvidenceSource,
  options: IVerifyOptions,
  report: IVerificationReport
): Promise<void> {
  const objectives = ctx.cells
    .map((cell, index) => ({
      cell,
      index,
      rules: cell.cell_type === 'code' ? objectiveRules(cell.metadata?.tags ?? []) : []
    }))
    .filter(o => o.rules.length > 0);
  if (objectives.length === 0) {
    report.error =
      'No cell is tagged as an objective: tag the cell that prints the metric with ain:objective>=<threshold> ' +
      '(or <=, =, or a bare ain:objective), so solution verification knows what to recompute.';
    report.summary = `Could not verify: ${report.error}`;
    return;
  }
  const hashes = new Map<number, Hex32>();
  let done = 0;
  for (const o of objectives) {
    const s = objectiveStep(ctx, o.cell.id, codeHash(o.cell.source));
    const base = { cellIndex: o.index, ...(o.cell.id ? { cellId: o.cell.id } : {}) };
    const objective = { rule: o.rules[0], claimed: null, recomputed: null };
    let result: IStepResult;
    if (!s || s.code === undefined) {
      result = {
        ...base,
        step: s?.step ?? -1,
        verdict: 'unavailable',
        objective,
        detail: `Cell ${o.index + 1} (${o.rules.map(r => r.text).join(', ')}) has no receipt in run ${ctx.run.runId.slice(0, 10)}…: the provider never ran it.`
      };
    } else {
      try {
        result = { ...base, ...(await checkOne(ctx, s, o.rules, executor, source, options, hashes)) };
      } catch (e) {
        report.error = `The kernel (${executor.label}) failed at step ${s.step}: ${(e as Error).message ?? String(e)}`;
        report.summary = `Could not verify: ${report.error}`;
        return;
      }
    }
    report.steps.push(result);
    done++;
    options.onProgress?.({
      done,
      total: objectives.length,
      message: `objective ${done} of ${objectives.length} (step ${result.step}): ${result.verdict === 'objective-pass' ? 'objective met' : result.verdict === 'unavailable' ? 'not checked' : 'objective failed'}`
    });
  }
  const failed = report.steps.filter(r => r.verdict === 'objective-fail' || r.verdict === 'unsigned-outputs');
  const passed = report.steps.filter(r => r.verdict === 'objective-pass');
  report.outcome = failed.length ? 'mismatch' : passed.length ? 'verified' : 'error';
  const first = passed[0]?.objective?.recomputed;
  report.attestation = {
    verdict: report.outcome === 'verified' ? 'objective' : 'mismatch',
    receiptCount: ctx.steps.length,
    resultRoot: resultRoot(hashes),
    score:
      report.outcome === 'verified' && typeof first === 'number' ? scaleMetric(first) : String(failed.length)
  };
  const unavailable = report.steps.filter(r => r.verdict === 'unavailable');
  const parts =
    report.outcome === 'verified'
      ? [`Objective met: ${passed.map(r => r.detail).join('; ')}`]
      : report.outcome === 'mismatch'
        ? [
            `Objective failed at step${failed.length > 1 ? 's' : ''} ${listSteps(failed.map(r => r.step))}: ${failed.map(r => r.detail).join('; ')}`
          ]
        : ['No objective could be checked'];
  if (unavailable.length) {
    parts.push(
      `${unavailable.length} objective cell(s) not checked: ${unavailable.map(r => r.detail).join('; ')}`
    );
  }
  report.summary = parts.join('; ');
  if (report.outcome === 'error') {
    report.error = report.summary;
  }
}

/** The run's latest step of the objective cell: by cell id, else by the code it ran. */
function objectiveStep(
  ctx: IVerifyContext,
  cellId: string | undefined,
  hash: Hex32
): IStepContext | undefined {
  const mine = ctx.steps.filter(s =>
    cellId !== undefined && s.cellId !== undefined
      ? s.cellId === cellId
      : s.record.signed.receipt.codeHash === hash
  );
  return mine[mine.length - 1];
}

/** The artifacts in effect at `step`: the latest version of each path over the receipts up to it, checked. */
function committedArtifacts(
  ctx: IVerifyContext,
  step: number
): { artifacts: IArtifact[] } | { problem: string } {
  const latest = new Map<string, IArtifact>();
  for (const s of ctx.steps) {
    if (s.step > step) {
      break;
    }
    const committed = s.record.signed.receipt.artifactsHash;
    const listed = s.record.artifacts ?? [];
    if (committed === ZERO_HASH && listed.length === 0) {
      continue;
    }
    if (s.signatureProblem) {
      return { problem: `the receipt of step ${s.step} is not the provider's: ${s.signatureProblem}` };
    }
    if (!s.record.artifacts) {
      return {
        problem: `the receipt of step ${s.step} commits to artifacts (artifactsHash ${committed.slice(0, 10)}…) that the notebook does not list`
      };
    }
    if (artifactsHash(listed) !== committed) {
      return {
        problem: `the artifacts listed for step ${s.step} (${listed.map(a => a.path).join(', ')}) do not hash to its receipt's artifactsHash ${committed.slice(0, 10)}…`
      };
    }
    listed.forEach(a => latest.set(a.path, a));
  }
  return { artifacts: [...latest.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

async function checkOne(
  ctx: IVerifyContext,
  s: IStepContext,
  rules: IObjectiveRule[],
  executor: ICellExecutor,
  source: IEvidenceSource,
  options: IVerifyOptions,
  hashes: Map<number, Hex32>
): Promise<Omit<IStepResult, 'cellIndex' | 'cellId'>> {
  const rule = rules[0];
  const ruleText = rules.map(describeRule).join(', ');
  const fail = (detail: string, verdict: 'objective-fail' | 'unavailable' = 'objective-fail') => ({
    step: s.step,
    verdict,
    objective: { rule, claimed: null, recomputed: null },
    detail: `${verdict === 'unavailable' ? 'Not checked' : 'Objective failed'}: ${detail}.`
  });
  const committed = committedArtifacts(ctx, s.step);
  if ('problem' in committed) {
    return fail(committed.problem);
  }
  for (const a of committed.artifacts) {
    let bytes: Uint8Array | null = null;
    try {
      bytes = await source.artifact(a.sha256);
    } catch (e) {
      return fail(`artifact ${a.path} could not be fetched (${(e as Error).message})`, 'unavailable');
    }
    if (!bytes) {
      return fail(
        `artifact ${a.path} (sha256 ${a.sha256.slice(0, 10)}…) could not be fetched from the evidence source`,
        'unavailable'
      );
    }
    const got = sha256(bytes);
    if (got !== a.sha256 || bytes.length !== a.size) {
      return fail(
        `the bytes served for artifact ${a.path} (${bytes.length} bytes, sha256 ${got.slice(0, 10)}…) are not the ` +
          `committed ones (${a.size} bytes, sha256 ${a.sha256.slice(0, 10)}…)`
      );
    }
    await executor.writeFile(a.path, bytes);
  }
  const executed = await executor.execute(s.code as string, {
    ...(s.cellId !== undefined ? { cellId: s.cellId } : {}),
    timeoutMs: options.cellTimeoutMs ?? DEFAULT_CELL_TIMEOUT_MS
  });
  if (executed.status === 'timeout') {
    return fail(`the objective cell did not finish on ${executor.label} (interrupted)`, 'unavailable');
  }
  hashes.set(s.step, outputHash(executed.outputs, ctx.salt));
  const recomputed = readMetric(executed.outputs);
  const claimed = await claimedOutputs(ctx, s, source);
  const tolerance = comparisonOptionsFromTags(
    ctx.cells[s.cellIndex as number].metadata?.tags ?? [],
    OBJECTIVE_TOLERANCE
  );
  const name = metricName(s.code as string);
  const from = committed.artifacts.length
    ? committed.artifacts.map(a => a.path).join(', ')
    : 'the bundle alone';
  if (!claimed.ok) {
    return {
      step: s.step,
      verdict: claimed.verdict,
      objective: { rule, claimed: null, recomputed },
      reproduced: executed.outputs,
      ms: executed.ms,
      detail: `${name} ${recomputed ?? '(none)'} recomputed from ${from}, but: ${claimed.detail}`
    };
  }
  const claimedMetric = readMetric(claimed.outputs);
  const check = checkObjective(rules, recomputed, claimedMetric, tolerance);
  return {
    step: s.step,
    verdict: check.pass ? 'objective-pass' : 'objective-fail',
    objective: { rule, claimed: claimedMetric, recomputed },
    claimed: claimed.outputs,
    reproduced: executed.outputs,
    ms: executed.ms,
    detail:
      `${name} ${recomputed ?? '(none)'} recomputed from ${from} (claimed ${claimedMetric ?? '(none)'}; rule ${ruleText})` +
      (check.pass ? '' : `: ${check.reason}`)
  };
}

/** The metric's name for sentences: the cell's last line when it is a bare name (`accuracy`), else "metric". */
function metricName(code: string): string {
  const lines = code
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  return /^[A-Za-z_][\w.]*$/.test(last) ? last : 'metric';
}
