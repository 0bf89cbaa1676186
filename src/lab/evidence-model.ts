/**
 * The evidence of one notebook, without the DOM: reading `metadata.ain` (tolerantly: a notebook from elsewhere may
 * carry anything), merging live records into it, and deriving each code cell's badge from the records, the last
 * re-check and the cell's current source.
 */
import { receiptKey } from '../core/evidence.js';
import { Hex32 } from '../core/hash.js';
import { codeHash } from '../core/notebook.js';
import type {
  BadgeState,
  IAinNotebookEvidence,
  IAinReceiptCheck,
  IAinReceiptRecord,
  IAinRecheckResult,
  IAinRunRecord,
  IAinVerificationRecord
} from './tokens.js';

// Reading and merging metadata.ain are core functions (the CLI reads notebooks too).
export { emptyEvidence, mergeEvidence, METADATA_KEY, readEvidence, receiptKey } from '../core/evidence.js';
export type { IReadEvidence } from '../core/evidence.js';

/** Lookups for deriving many badges at once without scanning every record per cell. */
export interface IEvidenceIndex {
  evidence: IAinNotebookEvidence;
  check: IAinRecheckResult | undefined;
  /** The receipt that speaks for a cell: its most recent execution (latest end time, then highest step). */
  receiptByCell: Map<string, IAinReceiptRecord>;
  checkByKey: Map<string, IAinReceiptCheck>;
  runs: Map<Hex32, IAinRunRecord>;
}

/** Builds the lookups of `evidence` and its last re-check. */
export function indexEvidence(
  evidence: IAinNotebookEvidence,
  check: IAinRecheckResult | undefined
): IEvidenceIndex {
  const receiptByCell = new Map<string, IAinReceiptRecord>();
  for (const r of evidence.receipts) {
    if (r.cellId === undefined) {
      continue;
    }
    const a = r.signed.receipt;
    const b = receiptByCell.get(r.cellId)?.signed.receipt;
    if (!b || a.endedAt > b.endedAt || (a.endedAt === b.endedAt && a.step > b.step)) {
      receiptByCell.set(r.cellId, r);
    }
  }
  return {
    evidence,
    check,
    receiptByCell,
    checkByKey: new Map((check?.receipts ?? []).map(c => [receiptKey(c.runId, c.step), c])),
    runs: new Map(evidence.runs.map(r => [r.runId, r]))
  };
}

/** What a badge shows, and the records behind it (for the details dialog). */
export interface ICellBadge {
  state: BadgeState;
  detail: string;
  receipt?: IAinReceiptRecord;
  run?: IAinRunRecord;
  check?: IAinReceiptCheck;
  verifications: IAinVerificationRecord[];
  /** The code hash of the cell's current source, compared with the receipt's. */
  currentCodeHash?: Hex32;
}

/** A code cell as the badge sees it. */
export interface ICellInput {
  cellId: string;
  /** The core codeHash of the cell's current source (callers cache it per source). */
  codeHash: Hex32;
  /** The cell is executing on a run of this notebook. */
  running: boolean;
}

/** The core code hash of a cell source, as receipts record it. */
export function sourceCodeHash(source: string): Hex32 {
  return codeHash(source);
}

/**
 * A cell's badge, strongest warning first: running; invalid (a signature, digest or chain check failed, or an
 * anchored root contradicts the receipt); stale (the code changed since it ran, so the evidence is about other
 * code); mismatch; objective-verified; reproduced; checkpoint-checked; anchored; signed. Before the first re-check a receipt is not
 * yet "signed": the badge stays empty and says that it is being checked.
 */
export function deriveCellBadge(index: IEvidenceIndex, cell: ICellInput): ICellBadge {
  if (cell.running) {
    return { state: 'running', detail: 'Running on the provider; its receipt follows.', verifications: [] };
  }
  const receipt = index.receiptByCell.get(cell.cellId);
  if (!receipt) {
    return { state: 'none', detail: 'No receipt: this cell has not run on AI Network.', verifications: [] };
  }
  const step = receipt.signed.receipt.step;
  const run = index.runs.get(receipt.runId);
  const rc = index.checkByKey.get(receiptKey(receipt.runId, step));
  const verifications = index.evidence.verifications.filter(
    v =>
      v.runId === receipt.runId && (v.step === step || (v.cellId !== undefined && v.cellId === cell.cellId))
  );
  const base = { receipt, run, check: rc, verifications, currentCodeHash: cell.codeHash };
  if (rc && (rc.signature !== null || rc.integrity !== null || rc.contradicted)) {
    const why = rc.signature ?? rc.integrity ?? rc.anchorNote;
    return { ...base, state: 'invalid', detail: `Invalid evidence for step ${step}: ${why}` };
  }
  if (cell.codeHash !== receipt.signed.receipt.codeHash) {
    return {
      ...base,
      state: 'stale',
      detail: `The code changed since step ${step} ran: its hash is now ${cell.codeHash}, the receipt's is ${receipt.signed.receipt.codeHash}.`
    };
  }
  const latest = (level: IAinVerificationRecord['level']) =>
    verifications.filter(v => v.level === level).sort((a, b) => (a.at < b.at ? 1 : -1))[0];
  // Strongest warning first: a disagreement beats any agreement; a full re-execution or an objective beats a
  // sampled check.
  for (const level of ['mismatch', 'objective-verified', 'reproduced', 'checkpoint-checked'] as const) {
    const v = latest(level);
    if (v) {
      return { ...base, state: level, detail: v.detail };
    }
  }
  if (!rc) {
    return { ...base, state: 'none', detail: `Checking the receipt of step ${step}…` };
  }
  if (rc.anchored) {
    return {
      ...base,
      state: 'anchored',
      detail: `Signed by the provider and proven under checkpoint ${rc.anchored.checkpoint}, anchored on-chain.`
    };
  }
  return { ...base, state: 'signed', detail: `Signed by the provider. ${rc.anchorNote}` };
}
