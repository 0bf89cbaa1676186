/**
 * What every verification level starts from: the run to verify, its salt and receipts in step order (signatures
 * checked), the notebook cell whose code each step ran, and the outputs the provider claimed for a step, accepted
 * only when they hash to the receipt's outputHash with the run's salt.
 */
import type { IAinNotebookEvidence, IAinReceiptRecord, IAinRunRecord } from './evidence.js';
import { makeError } from './errors.js';
import { Hex32, ZERO_HASH } from './hash.js';
import { ReceiptTree } from './merkle.js';
import { cellSource, codeHash, ICellContent, parseNotebook } from './notebook.js';
import { NbOutput, outputHash } from './outputs-normalize.js';
import { IReceiptDomain, receiptDigest, verifyReceipt } from './receipt.js';
import type { IEvidenceSource, IVerifyOptions } from './verification.js';

/** Per-cell timeout when the options give none: 10 minutes. */
export const DEFAULT_CELL_TIMEOUT_MS = 10 * 60 * 1000;

/** One receipt of the run with what the notebook knows about it. */
export interface IStepContext {
  step: number;
  record: IAinReceiptRecord;
  /** The receipt's EIP-712 digest, recomputed (the recorded one is not trusted). */
  digest: Hex32;
  /** null when the run's provider signed the receipt for this run, else why not. */
  signatureProblem: string | null;
  cellId?: string;
  /** The code cell whose source hashes to the receipt's codeHash (by cell id first), if any. */
  cellIndex?: number;
  code?: string;
  tags: string[];
  /** The notebook's saved outputs of the step's cell, when this step is that cell's latest receipt. */
  savedOutputs?: NbOutput[];
}

export interface IVerifyContext {
  run: IAinRunRecord;
  salt: Hex32;
  domain: IReceiptDomain;
  cells: ICellContent[];
  /** The run's receipts in step order. */
  steps: IStepContext[];
}

/**
 * Reads the notebook and its evidence for a verification. Throws VERIFY_INPUT_INVALID when there is no run with
 * receipts (or not the one asked for) or the run record lacks its salt, and the notebook's own errors.
 */
export function verifyContext(
  notebook: object | string | Uint8Array,
  evidence: IAinNotebookEvidence,
  options: Pick<IVerifyOptions, 'runId'>
): IVerifyContext {
  const nb = parseNotebook(notebook);
  const run = pickRun(evidence, options.runId);
  if (!run.salt) {
    throw makeError(
      'VERIFY_INPUT_INVALID',
      `The notebook lacks its run's salt (metadata.ain.runs[].salt of run ${run.runId}), so its outputs cannot be ` +
        "checked against the receipts' outputHash. Save the notebook again from the JupyterLab session that ran " +
        'it (the extension records the salt the agent gives its client), or add the salt the agent returned.',
      { runId: run.runId }
    );
  }
  const domain: IReceiptDomain = { chainId: run.chainId, verifyingContract: run.runRegistry };
  const records = evidence.receipts
    .filter(r => r.runId === run.runId)
    .sort((a, b) => a.signed.receipt.step - b.signed.receipt.step);
  const byId = new Map<string, number>();
  const byHash = new Map<Hex32, number>();
  nb.cells.forEach((cell, index) => {
    if (cell.id) {
      byId.set(cell.id, index);
    }
    if (cell.cell_type === 'code') {
      const hash = codeHash(cell.source);
      if (!byHash.has(hash)) {
        byHash.set(hash, index);
      }
    }
  });
  const steps = records.map(record => stepContext(record, run, domain, nb.cells, byId, byHash));
  // A cell's saved outputs are those of its latest execution: only the cell's latest step can claim them.
  const latest = new Map<string, IStepContext>();
  for (const s of steps) {
    const key =
      s.cellId !== undefined ? `id:${s.cellId}` : s.cellIndex !== undefined ? `#${s.cellIndex}` : '';
    if (key) {
      latest.set(key, s);
    }
  }
  for (const s of latest.values()) {
    const index = (s.cellId !== undefined ? byId.get(s.cellId) : undefined) ?? s.cellIndex;
    const cell = index === undefined ? undefined : nb.cells[index];
    if (cell?.cell_type === 'code' && Array.isArray(cell.outputs)) {
      s.savedOutputs = cell.outputs as NbOutput[];
    }
  }
  return { run, salt: run.salt, domain, cells: nb.cells, steps };
}

function pickRun(evidence: IAinNotebookEvidence, runId: Hex32 | undefined): IAinRunRecord {
  const withReceipts = evidence.runs.filter(r => evidence.receipts.some(x => x.runId === r.runId));
  if (runId !== undefined) {
    const run = evidence.runs.find(r => r.runId === runId);
    if (!run || !withReceipts.includes(run)) {
      throw makeError(
        'VERIFY_INPUT_INVALID',
        `Run ${runId} ${run ? 'has no receipts' : 'is not'} in the notebook's metadata.ain; ` +
          `runs with receipts: ${withReceipts.map(r => r.runId).join(', ') || 'none'}.`,
        { runId }
      );
    }
    return run;
  }
  if (withReceipts.length === 0) {
    throw makeError(
      'VERIFY_INPUT_INVALID',
      'The notebook carries no run with receipts (metadata.ain): run it on a provider first, or open the copy ' +
        'that was saved with its evidence.'
    );
  }
  return withReceipts.reduce((a, b) => (Date.parse(b.openedAt) > Date.parse(a.openedAt) ? b : a));
}

function stepContext(
  record: IAinReceiptRecord,
  run: IAinRunRecord,
  domain: IReceiptDomain,
  cells: ICellContent[],
  byId: Map<string, number>,
  byHash: Map<Hex32, number>
): IStepContext {
  const receipt = record.signed.receipt;
  let signatureProblem: string | null = null;
  let digest: Hex32 = ZERO_HASH;
  try {
    digest = receiptDigest(receipt, domain);
    if (receipt.runId !== run.runId) {
      signatureProblem = `the receipt is for run ${receipt.runId}, not ${run.runId}`;
    } else {
      verifyReceipt(record.signed, domain, run.provider);
    }
  } catch (e) {
    signatureProblem = (e as Error).message;
  }
  const own = record.cellId !== undefined ? byId.get(record.cellId) : undefined;
  const ownMatches =
    own !== undefined && cells[own].cell_type === 'code' && codeHash(cells[own].source) === receipt.codeHash;
  const cellIndex = ownMatches ? own : byHash.get(receipt.codeHash);
  const cell = cellIndex === undefined ? undefined : cells[cellIndex];
  return {
    step: receipt.step,
    record,
    digest,
    signatureProblem,
    ...(record.cellId !== undefined ? { cellId: record.cellId } : {}),
    ...(cell ? { cellIndex, code: cellSource(cell.source) } : {}),
    tags: cell?.metadata?.tags ?? []
  };
}

/** The claimed outputs of a step, or why there are none to compare with. */
export type ClaimedOutputs =
  | { ok: true; outputs: NbOutput[]; from: 'notebook' | 'source' }
  | { ok: false; verdict: 'unsigned-outputs' | 'unavailable'; detail: string };

/**
 * The outputs the provider signed for a step: the notebook's saved outputs of the step's cell (when this is its
 * latest step), else the evidence source's; each accepted only if outputHash(outputs, salt) equals the receipt's
 * outputHash. A receipt the provider did not sign makes every output "unsigned".
 */
export async function claimedOutputs(
  ctx: IVerifyContext,
  s: IStepContext,
  source: IEvidenceSource
): Promise<ClaimedOutputs> {
  if (s.signatureProblem) {
    return {
      ok: false,
      verdict: 'unsigned-outputs',
      detail: `The receipt of step ${s.step} is not the provider's: ${s.signatureProblem}`
    };
  }
  const expected = s.record.signed.receipt.outputHash;
  const signs = (outputs: NbOutput[]) => {
    try {
      return outputHash(outputs, ctx.salt) === expected;
    } catch {
      return false;
    }
  };
  if (s.savedOutputs && signs(s.savedOutputs)) {
    return { ok: true, outputs: s.savedOutputs, from: 'notebook' };
  }
  let fetched: NbOutput[] | null = null;
  let fetchProblem = '';
  try {
    fetched = await source.claimedOutputs(ctx.run.runId, s.step);
  } catch (e) {
    fetchProblem = ` (asking for them failed: ${(e as Error).message})`;
  }
  if (fetched && signs(fetched)) {
    return { ok: true, outputs: fetched, from: 'source' };
  }
  if (s.savedOutputs || fetched) {
    const which = [s.savedOutputs ? 'saved in the notebook' : '', fetched ? "offered as the provider's" : '']
      .filter(Boolean)
      .join(' and the ones ');
    return {
      ok: false,
      verdict: 'unsigned-outputs',
      detail:
        `The outputs ${which} are not the ones the provider signed: with the run's salt they do not hash to ` +
        `the receipt's outputHash ${expected.slice(0, 10)}…${fetchProblem}.`
    };
  }
  return {
    ok: false,
    verdict: 'unavailable',
    detail: `Neither the notebook nor the evidence source has the outputs the provider signed for step ${s.step}${fetchProblem}; not compared.`
  };
}

/**
 * The verifier's result root: a ReceiptTree over leaves [step, outputHash(reproduced outputs, salt)] for steps
 * 0 .. the last re-executed one, with ZERO_HASH for a step that was not re-executed (so each leaf's position is
 * its step); ZERO_HASH when nothing was re-executed.
 */
export function resultRoot(hashes: ReadonlyMap<number, Hex32>): Hex32 {
  if (hashes.size === 0) {
    return ZERO_HASH;
  }
  const last = Math.max(...hashes.keys());
  return new ReceiptTree(Array.from({ length: last + 1 }, (_, step) => hashes.get(step) ?? ZERO_HASH)).root;
}

/** "3, 7, 9" (at most 12 listed, then "and 5 more"). */
export function listSteps(steps: readonly number[]): string {
  const more = steps.length - 12;
  return steps.slice(0, 12).join(', ') + (more > 0 ? ` and ${more} more` : '');
}
