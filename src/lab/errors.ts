/**
 * Typed errors of the run pipeline in JupyterLab: each says what failed and what to do, and carries a code that
 * tests and callers check with isLabError(e, code). (The core's AinError codes cover the shared layers; these are
 * the browser-side ones.)
 */

/** What can fail while choosing a provider, provisioning and connecting. */
export type LabErrorCode =
  | 'LAB_SETTINGS_INCOMPLETE'
  | 'LAB_WALLET_MISSING'
  | 'LAB_BUDGET_INVALID'
  | 'LAB_PROVIDER_UNKNOWN'
  | 'LAB_PROVIDER_UNREACHABLE'
  | 'LAB_AGENT_REFUSED'
  | 'LAB_RUN_FAILED'
  | 'LAB_CANCELLED'
  | 'LAB_NO_NOTEBOOK'
  // verification (Reproduce, checkpoints, objective, challenges)
  | 'LAB_NO_SECRET'
  | 'LAB_NO_EVIDENCE'
  | 'LAB_VERIFY_FAILED'
  | 'LAB_CHALLENGE_IMPOSSIBLE';

/** An error of the run pipeline. */
export class LabError extends Error {
  readonly code: LabErrorCode;
  /** The step that failed, for notifications ("packing", "opening the run on-chain", ...). */
  readonly step?: string;

  constructor(code: LabErrorCode, message: string, step?: string) {
    super(message);
    this.name = 'LabError';
    this.code = code;
    this.step = step;
  }
}

/** Makes a LabError. */
export function labError(code: LabErrorCode, message: string, step?: string): LabError {
  return new LabError(code, message, step);
}

/** Whether `e` is a LabError (with `code`, when given). */
export function isLabError(e: unknown, code?: LabErrorCode): e is LabError {
  return e instanceof LabError && (code === undefined || e.code === code);
}

/** The message of any error, for people. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
