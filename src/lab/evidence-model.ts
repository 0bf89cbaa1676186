/**
 * The evidence of one notebook, without the DOM: reading `metadata.ain` (tolerantly: a notebook from elsewhere may
 * carry anything), merging live records into it, and deriving each code cell's badge from the records, the last
 * re-check and the cell's current source.
 */
import { Hex32 } from '../core/hash.js';
import { codeHash } from '../core/notebook.js';
import type {
  BadgeState,
  IAinCheckpointRecord,
  IAinNotebookEvidence,
  IAinReceiptCheck,
  IAinReceiptRecord,
  IAinRecheckResult,
  IAinRunRecord,
  IAinVerificationRecord
} from './tokens.js';

/** The metadata key the evidence is saved under. */
export const METADATA_KEY = 'ain';

/** A notebook without evidence. */
export function emptyEvidence(): IAinNotebookEvidence {
  return { version: 1, runs: [], receipts: [], checkpoints: [], verifications: [] };
}

/** What `readEvidence` kept, and what it dropped with the reason. */
export interface IReadEvidence {
  evidence: IAinNotebookEvidence;
  problems: string[];
}

/**
 * Reads `metadata.ain`. Entries of the wrong shape are dropped and named in `problems` rather than failing the
 * whole notebook: the rest of its evidence stays checkable. Nothing is trusted here; the re-check decides.
 */
export function readEvidence(value: unknown): IReadEvidence {
  const problems: string[] = [];
  const evidence = emptyEvidence();
  if (value === undefined || value === null) {
    return { evidence, problems };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { evidence, problems: ['metadata.ain is not an object; it was ignored.'] };
  }
  const v = value as Record<string, unknown>;
  if (v.version !== 1) {
    return {
      evidence,
      problems: [`metadata.ain has version ${String(v.version)}; this extension reads version 1.`]
    };
  }
  const take = <T>(name: string, ok: (x: Record<string, unknown>) => boolean): T[] => {
    const list = v[name];
    if (list === undefined) {
      return [];
    }
    if (!Array.isArray(list)) {
      problems.push(`metadata.ain.${name} is not a list; it was ignored.`);
      return [];
    }
    return list.filter((x, i) => {
      const good = typeof x === 'object' && x !== null && ok(x as Record<string, unknown>);
      if (!good) {
        problems.push(`metadata.ain.${name}[${i}] is malformed; it was ignored.`);
      }
      return good;
    }) as T[];
  };
  const str = (x: unknown) => typeof x === 'string';
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  evidence.runs = take<IAinRunRecord>(
    'runs',
    r => num(r.chainId) && str(r.runRegistry) && str(r.runId) && str(r.provider)
  );
  evidence.receipts = take<IAinReceiptRecord>('receipts', r => {
    const signed = r.signed as Record<string, unknown> | undefined;
    const receipt = signed?.receipt as Record<string, unknown> | undefined;
    return str(r.runId) && str(r.digest) && str(signed?.signature) && num(receipt?.step);
  });
  evidence.checkpoints = take<IAinCheckpointRecord>(
    'checkpoints',
    c => str(c.runId) && num(c.index) && str(c.root) && num(c.receiptCount)
  );
  evidence.verifications = take<IAinVerificationRecord>(
    'verifications',
    x => str(x.runId) && num(x.step) && str(x.level)
  );
  return { evidence, problems };
}

/** A receipt's identity: a run has one receipt per step (two would be an equivocation, kept apart by the chain). */
export function receiptKey(runId: Hex32, step: number): string {
  return `${runId}:${step}`;
}

/**
 * `extra` merged into `base` (neither is changed): runs by id (the newer record wins), receipts by run and step,
 * checkpoints by run and index (an anchored record wins over a pending one), verifications appended unless the
 * same one is already there.
 */
export function mergeEvidence(
  base: IAinNotebookEvidence,
  extra: Partial<IAinNotebookEvidence>
): IAinNotebookEvidence {
  const runs = new Map(base.runs.map(r => [r.runId, r]));
  for (const r of extra.runs ?? []) {
    runs.set(r.runId, { ...runs.get(r.runId), ...r });
  }
  const receipts = new Map(base.receipts.map(r => [receiptKey(r.runId, r.signed.receipt.step), r]));
  for (const r of extra.receipts ?? []) {
    const key = receiptKey(r.runId, r.signed.receipt.step);
    const old = receipts.get(key);
    // A restored receipt may lack the cell id the live one carries: keep whichever knows it.
    receipts.set(key, old && !r.cellId && old.cellId ? { ...r, cellId: old.cellId } : r);
  }
  const checkpoints = new Map(base.checkpoints.map(c => [`${c.runId}:${c.index}`, c]));
  for (const c of extra.checkpoints ?? []) {
    const key = `${c.runId}:${c.index}`;
    const old = checkpoints.get(key);
    if (!old || c.txHash || !old.txHash) {
      checkpoints.set(key, c);
    }
  }
  const verifications = [...base.verifications];
  for (const x of extra.verifications ?? []) {
    if (
      !verifications.some(
        y => y.runId === x.runId && y.step === x.step && y.level === x.level && y.at === x.at
      )
    ) {
      verifications.push(x);
    }
  }
  const byStep = (a: IAinReceiptRecord, b: IAinReceiptRecord) =>
    a.runId === b.runId ? a.signed.receipt.step - b.signed.receipt.step : a.runId < b.runId ? -1 : 1;
  return {
    version: 1,
    runs: [...runs.values()],
    receipts: [...receipts.values()].sort(byStep),
    checkpoints: [...checkpoints.values()].sort((a, b) =>
      a.runId === b.runId ? a.index - b.index : a.runId < b.runId ? -1 : 1
    ),
    verifications
  };
}

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
 * code); mismatch; objective-verified; reproduced; anchored; signed. Before the first re-check a receipt is not
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
  for (const level of ['mismatch', 'objective-verified', 'reproduced'] as const) {
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
