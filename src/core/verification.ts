/**
 * The three levels of verification (DESIGN.md "The idea it implements"), as records and contracts shared by
 * every place that verifies: the extension (Reproduce, the sidebar), `ain verify` in CI, and bench/verify.
 *
 * - execution: re-execute the run's steps in order in a fresh kernel and compare each step's outputs with the
 *   outputs the provider signed (bound to the receipt by outputHash and the run's salt);
 * - checkpoint: the same, but only for the steps of a sample of the anchored checkpoints, chosen from the client's
 *   revealed secret and a later block hash; re-executes up to the last sampled checkpoint;
 * - solution: for cells tagged `ain:objective...`, fetch the artifacts the provider committed to (by sha256,
 *   checked against the receipts' artifactsHash), run only the objective cell, compare the metric.
 *
 * Everything here is runtime-neutral: a kernel is reached through ICellExecutor (a Jupyter kernel in the browser,
 * a local jupyter server or a provider run in Node), claimed outputs and artifacts through IEvidenceSource.
 */
import type { Hex32 } from './hash.js';
import type { ICheckpoint } from './merkle.js';
import type { OutputComparison, OutputVerdict } from './outputs-compare.js';
import type { NbOutput } from './outputs-normalize.js';

export type VerificationLevel = 'execution' | 'checkpoint' | 'solution';

/** One executed cell, as a kernel reported it (outputs in nbformat, as a notebook would save them). */
export interface IExecuted {
  outputs: NbOutput[];
  /** The execute_reply status; 'timeout' when the executor gave up waiting (the kernel was interrupted). */
  status: 'ok' | 'error' | 'aborted' | 'timeout';
  ms: number;
}

/** A fresh kernel to re-execute cells in, wherever it runs. */
export interface ICellExecutor {
  /** For reports and records: "local kernel (python3)", "provider 0xabc… at http://…". */
  readonly label: string;
  /** Runs one cell's code and resolves with its outputs once the kernel is idle. */
  execute(code: string, options?: { cellId?: string; timeoutMs?: number }): Promise<IExecuted>;
  /** Writes a file (relative POSIX path) into the kernel's working folder: artifacts for solution checks. */
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
  /** Restarts the kernel: fresh state, same working folder. */
  restart(): Promise<void>;
  /** Shuts the kernel (and whatever the executor started for it) down. */
  dispose(): Promise<void>;
}

/** Where the verifier finds what the provider claimed beyond the notebook itself. */
export interface IEvidenceSource {
  /**
   * The outputs the provider returned for a step, or null when unknown. The verifier accepts them only when
   * outputHash(outputs, salt) equals the receipt's outputHash. The notebook's saved outputs are tried first for
   * a cell's latest step; this is for the other steps (e.g. the agent's GET /runs/{id}/receipts, to its client).
   */
  claimedOutputs(runId: Hex32, step: number): Promise<NbOutput[] | null>;
  /** An artifact's bytes by sha256 (the verifier checks the hash), or null when it cannot be had. */
  artifact(sha256: Hex32): Promise<Uint8Array | null>;
}

/** What the checkpoint level needs from the chain (read by src/chain, passed in). */
export interface ICheckpointSampling {
  /** The run's anchored checkpoints, in index order. */
  anchored: ICheckpoint[];
  /** The client's sampling secret as revealed on-chain, and the hash of the block it was revealed in. */
  secret: Hex32;
  blockHash: Hex32;
  /** How many checkpoints to re-check (capped at the number anchored). */
  samples: number;
}

export interface IVerifyOptions {
  level: VerificationLevel;
  /** The run to verify; default the notebook's latest run that has receipts. */
  runId?: Hex32;
  /** Default numeric tolerance (per-cell tags `ain:rtol=`, `ain:atol=`, `ain:compare=` override). */
  rtol?: number;
  atol?: number;
  /** Required for level 'checkpoint'. */
  sampling?: ICheckpointSampling;
  /** The share of falsified cells the probability statement assumes (default 0.3). */
  falsifiedFraction?: number;
  /** Per-cell execution timeout, ms (default 10 minutes). */
  cellTimeoutMs?: number;
  /** Progress lines (CLI) and notifications (UI). */
  onProgress?: (progress: IVerifyProgress) => void;
}

export interface IVerifyProgress {
  done: number;
  total: number;
  message: string;
}

/**
 * The verdict of one step: a core comparison verdict, or why it could not be compared.
 * - `unsigned-outputs`: the outputs offered as the provider's do not hash to the receipt's outputHash;
 * - `unavailable`: neither the notebook nor the source has the step's claimed outputs or code;
 * - `not-sampled`: outside the sampled checkpoints (checkpoint level);
 * - `objective-pass` / `objective-fail`: solution level.
 */
export type StepVerdict =
  | OutputVerdict
  | 'unsigned-outputs'
  | 'unavailable'
  | 'not-sampled'
  | 'objective-pass'
  | 'objective-fail';

/** An `ain:objective` rule read from a cell's tags. */
export interface IObjectiveRule {
  /**
   * `>=`, `<=` or `=` (with `ain:atol=` / `ain:rtol=` as the tolerance of `=`); `any` for a bare `ain:objective`
   * tag: no threshold, only the claimed metric must equal the recomputed one (`value` is then 0 and unused).
   */
  op: '>=' | '<=' | '=' | 'any';
  value: number;
  /** The tag text, for reports: "ain:objective>=0.9". */
  text: string;
}

export interface IStepResult {
  step: number;
  cellId?: string;
  /** Index of the cell in the notebook, when the step's code was found there. */
  cellIndex?: number;
  verdict: StepVerdict;
  /** One sentence: what was compared and how it came out (shown on the badge and in the CLI table). */
  detail: string;
  comparison?: OutputComparison;
  /** The claimed and reproduced outputs, for the side-by-side view of a mismatch. */
  claimed?: NbOutput[];
  reproduced?: NbOutput[];
  objective?: { rule: IObjectiveRule; claimed: number | null; recomputed: number | null };
  ms?: number;
  /** Checkpoint level: the index of the sampled checkpoint this step belongs to. */
  checkpoint?: number;
}

/** What checkpoint sampling checked, and the detection probability it buys. */
export interface ICheckpointSummary {
  anchoredCount: number;
  sampledIndexes: number[];
  /** Steps inside the sampled checkpoints that were fully compared, and steps in the run. */
  cellsChecked: number;
  cellsTotal: number;
  falsifiedFraction: number;
  /**
   * The least probability of meeting a falsified cell when ceil(f*N) cells were falsified anywhere:
   * 1 - C(A-C,K)/C(A,K) for A anchored checkpoints, K fully checked, C the fewest that hold them (verify-checkpoints.ts).
   */
  probability: number;
  /** "3 of 10 checkpoints; >= 97% if 30% of cells were falsified". */
  statement: string;
  /**
   * Sampled checkpoints whose anchored root is not the Merkle root of the run's signed receipts: the provider
   * anchored something other than what it signed (a mismatch, challengeable on-chain).
   */
  contradicted?: { index: number; anchoredRoot: Hex32; receiptsRoot: Hex32; reason: string }[];
}

/** The outcome: 'verified' (exit 0), 'mismatch' (1: a difference or a failed proof), 'error' (2: could not verify). */
export type VerifyOutcome = 'verified' | 'mismatch' | 'error';

export interface IVerificationReport {
  level: VerificationLevel;
  runId: Hex32;
  executor: string;
  outcome: VerifyOutcome;
  /** One line for a person: "12 cells reproduced (9 identical, 3 within tolerance)". */
  summary: string;
  steps: IStepResult[];
  checkpoint?: ICheckpointSummary;
  /**
   * What an attestation of this report says (src/chain attestation.ts): the verdict, the receipts covered, the
   * verifier's own result root (a Merkle root over [step, outputHash(reproduced outputs, salt)]) and a score
   * (mismatching steps, or the objective metric scaled by 1e18).
   */
  attestation: {
    verdict: 'reproduced' | 'mismatch' | 'objective';
    receiptCount: number;
    resultRoot: Hex32;
    score: string;
  };
  /** Set when outcome is 'error'. */
  error?: string;
  startedAt: string;
  ms: number;
}
