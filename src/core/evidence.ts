/**
 * The evidence a notebook carries in `metadata.ain` (DESIGN.md §6): runs, receipts, checkpoints, verifications,
 * and the results of re-checking them. Plain records, read tolerantly (a notebook from elsewhere may carry
 * anything) and merged without losing what is already there. Shared by the extension, the CLI and the worker.
 */
import type { Hex32 } from './hash.js';
import type { ICheckpoint } from './merkle.js';
import type { IArtifact, ISignedReceipt } from './receipt.js';

/** A run as recorded in a notebook: enough to find it on-chain and at its provider again. */
export interface IAinRunRecord {
  chainId: number;
  /** The RunRegistry address: with chainId, the EIP-712 domain of the run's receipts. */
  runRegistry: string;
  runId: Hex32;
  /** The provider's address: the expected signer of every receipt. */
  provider: string;
  /** The provider agent's base URL (may be unreachable later; the evidence stays checkable on-chain). */
  endpoint: string;
  bundleHash: Hex32;
  notebookHash: Hex32;
  /** Escrow and price, as decimal strings of token base units (bigint-safe in JSON). */
  escrow: string;
  pricePerHour: string;
  /** ISO 8601 times. */
  openedAt: string;
  /**
   * The block of the run's openRun transaction (absent in older notebooks). No event of the run is older, so event
   * scans may start here instead of at the contracts' deployment block, but only once the chain confirms it: the
   * run's RunOpened event is in this block (src/chain runEventsFrom). An edited value is then simply ignored.
   */
  openedBlock?: number;
  endedAt?: string;
  state: 'provisioning' | 'running' | 'stopped' | 'failed' | 'settled';
  /**
   * The run's output-hash salt (from the agent, to the run's client). Kept in the notebook on purpose: whoever
   * holds the shared notebook can then check that its saved outputs are the ones the provider signed
   * (outputHash), which is what makes a shared result checkable. The chain still shows only salted hashes.
   */
  salt?: Hex32;
  /**
   * The client's checkpoint-sampling secret: committed on-chain at openRun, revealed on-chain after the last
   * anchor (revealTx). Until it is revealed it must stay private, so a provider cannot predict the sample.
   */
  samplingSecret?: Hex32;
  revealTx?: string;
}

/** One executed cell's receipt as kept in the notebook. */
export interface IAinReceiptRecord {
  runId: Hex32;
  /** The JupyterLab cell id the execution came from, when the kernel request carried it. */
  cellId?: string;
  signed: ISignedReceipt;
  digest: Hex32;
  /** The files the receipt's artifactsHash commits to (solution verification downloads them by sha256). */
  artifacts?: IArtifact[];
}

/** Two receipts the provider signed for one step: proof of equivocation, challengeable on-chain. */
export interface IAinEquivocationRecord {
  runId: Hex32;
  step: number;
  a: ISignedReceipt;
  b: ISignedReceipt;
  /** The challenge transaction, once submitted. */
  challengeTx?: string;
}

/** A checkpoint of a run, anchored (txHash set) or not yet. */
export interface IAinCheckpointRecord extends ICheckpoint {
  runId: Hex32;
}

/** A verification result for one cell (filled by the verification features: reproduce, checkpoint, objective). */
export interface IAinVerificationRecord {
  runId: Hex32;
  cellId?: string;
  step: number;
  level: 'reproduced' | 'objective-verified' | 'mismatch' | 'checkpoint-checked';
  /** A sentence a person can read: what was compared, and how it came out. */
  detail: string;
  /** Which verification produced it, and where the cells were re-executed ("local kernel", a provider). */
  method?: 'execution' | 'checkpoint' | 'solution';
  executor?: string;
  /** The comparison verdict of the cell (core OutputVerdict) or the objective's numbers. */
  verdict?: string;
  objective?: { metric: number | null; claimed: number | null; rule: string };
  /** The verifier's address, when it attested. */
  verifier?: string;
  /** Attestation transaction, when it was recorded on-chain. */
  txHash?: string;
  at: string;
}

/** The `metadata.ain` of a notebook. */
export interface IAinNotebookEvidence {
  version: 1;
  runs: IAinRunRecord[];
  receipts: IAinReceiptRecord[];
  checkpoints: IAinCheckpointRecord[];
  verifications: IAinVerificationRecord[];
  /** Conflicting receipt pairs seen live (absent in older notebooks). */
  equivocations?: IAinEquivocationRecord[];
}

/** Where the worker reads anchored roots: the RPC endpoint (its chain id must match each run's). */
export interface IAinChainAccess {
  rpcUrl: string;
  /** Event queries start at this block. */
  deploymentBlock: number;
}

/** What the re-check found for one receipt. */
export interface IAinReceiptCheck {
  runId: Hex32;
  step: number;
  /** null when the run's provider signed it in the run's domain, else the reason. */
  signature: string | null;
  /** null when the recorded digest, the receipt fields and the `prev` chain agree, else the reason. */
  integrity: string | null;
  /** Set when the receipt is proven under an anchored on-chain root. */
  anchored?: {
    checkpoint: number;
    root: Hex32;
    receiptCount: number;
    proof: Hex32[];
    txHash?: string;
    blockNumber?: number;
  };
  /** Why it is not (yet) anchored: no checkpoint covers it, chain unreachable, or a root that contradicts it. */
  anchorNote: string;
  /** True when an anchored root covers this step but the receipt is not under it: the provider contradicted itself. */
  contradicted: boolean;
}

/** The outcome of one re-check of a notebook's evidence. */
export interface IAinRecheckResult {
  receipts: IAinReceiptCheck[];
  runs: {
    runId: Hex32;
    /** On-chain status and checkpoints, or null with `chainNote` saying why they could not be read. */
    status: string | null;
    checkpoints: ICheckpoint[];
    chainNote: string;
  }[];
  /** ISO time and duration of the check in the worker. */
  checkedAt: string;
  ms: number;
}

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
  const block = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  evidence.runs = take<IAinRunRecord>(
    'runs',
    r =>
      num(r.chainId) &&
      str(r.runRegistry) &&
      str(r.runId) &&
      str(r.provider) &&
      (r.openedBlock === undefined || block(r.openedBlock))
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
  if (v.equivocations !== undefined) {
    evidence.equivocations = take<IAinEquivocationRecord>(
      'equivocations',
      x => str(x.runId) && num(x.step) && typeof x.a === 'object' && typeof x.b === 'object'
    );
  }
  return { evidence, problems };
}

/** A receipt's identity: a run has one receipt per step (two would be an equivocation, kept apart by the chain). */
export function receiptKey(runId: Hex32, step: number): string {
  return `${runId}:${step}`;
}

/**
 * `extra` merged into `base` (neither is changed): runs by id (the newer record wins), receipts by run and step,
 * checkpoints by run and index (an anchored record wins over a pending one), verifications appended unless the
 * same one is already there (then merged into it: an attestation adds its txHash).
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
    // A restored receipt may lack the cell id (or artifact list) the live one carries: keep whichever knows it.
    receipts.set(
      key,
      old ? { ...r, cellId: r.cellId ?? old.cellId, artifacts: r.artifacts ?? old.artifacts } : r
    );
  }
  const equivocations = new Map((base.equivocations ?? []).map(e => [receiptKey(e.runId, e.step), e]));
  for (const e of extra.equivocations ?? []) {
    const key = receiptKey(e.runId, e.step);
    equivocations.set(key, { ...equivocations.get(key), ...e });
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
    const i = verifications.findIndex(
      y => y.runId === x.runId && y.step === x.step && y.level === x.level && y.at === x.at
    );
    // The same verification again adds what it learnt since (an attestation's txHash and verifier).
    if (i >= 0) {
      verifications[i] = { ...verifications[i], ...x };
    } else {
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
    verifications,
    ...(equivocations.size ? { equivocations: [...equivocations.values()] } : {})
  };
}
