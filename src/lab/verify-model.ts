/**
 * The verification features without the DOM: what the results dialog lists per cell, what a run's latest
 * verification says in the sidebar, which challenges a notebook's evidence supports, what an attestation failure
 * means, and where a verifier may re-execute. Unit-tested in Node (verify-model.spec.ts).
 */
import { isAinError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import type { IStepResult, IVerificationReport, StepVerdict } from '../core/verification.js';
import { ChallengeCandidate, findChallenges } from '../chain/challenges.js';
import type {
  IAinNotebookEvidence,
  IAinProviderListing,
  IAinRecheckResult,
  IAinVerificationRecord
} from './tokens.js';

/** The three verification commands and their level. */
export type VerifyKind = 'reproduce' | 'checkpoints' | 'objective';

export const LEVEL_OF: Record<VerifyKind, IVerificationReport['level']> = {
  reproduce: 'execution',
  checkpoints: 'checkpoint',
  objective: 'solution'
};

/** Short words for a step verdict, for the results table. */
export const VERDICT_TEXT: Record<StepVerdict, string> = {
  identical: 'identical',
  'normalized-equal': 'equal after normalization',
  'within-tolerance': 'within tolerance',
  differs: 'differs',
  skipped: 'skipped (ain:compare=skip)',
  'unsigned-outputs': 'claimed outputs not signed',
  unavailable: 'not checked',
  'not-sampled': 'not sampled',
  'objective-pass': 'objective met',
  'objective-fail': 'objective failed'
};

/** Whether a verdict passed (true), failed (false) or says nothing either way (null). */
export function verdictOutcome(verdict: StepVerdict): boolean | null {
  if (['identical', 'normalized-equal', 'within-tolerance', 'objective-pass'].includes(verdict)) {
    return true;
  }
  if (['differs', 'unsigned-outputs', 'objective-fail'].includes(verdict)) {
    return false;
  }
  return null;
}

/** One row of the results dialog. */
export interface IResultRow {
  step: number;
  cellId?: string;
  /** "Cell 3" (1-based, as people count), or "Step 7" when the code is not in the notebook any more. */
  where: string;
  /** The first line of the cell's code, shortened. */
  code: string;
  verdict: StepVerdict;
  verdictText: string;
  outcome: boolean | null;
  detail: string;
  /** A side-by-side view can be shown: both sides' outputs are known and they were compared. */
  comparable: boolean;
}

/** The rows of a report, in step order, with each cell's first line of code from the notebook. */
export function resultRows(report: IVerificationReport, notebook: object): IResultRow[] {
  const cells = ((notebook as { cells?: { source?: string | string[] }[] }).cells ?? []).map(c =>
    Array.isArray(c.source) ? c.source.join('') : (c.source ?? '')
  );
  return [...report.steps]
    .sort((a, b) => a.step - b.step)
    .map(s => ({
      step: s.step,
      ...(s.cellId !== undefined ? { cellId: s.cellId } : {}),
      where: s.cellIndex !== undefined ? `Cell ${s.cellIndex + 1}` : `Step ${s.step}`,
      code: s.cellIndex !== undefined ? firstLine(cells[s.cellIndex] ?? '') : '',
      verdict: s.verdict,
      verdictText: VERDICT_TEXT[s.verdict] ?? s.verdict,
      outcome: verdictOutcome(s.verdict),
      detail: s.detail,
      comparable: isComparable(s)
    }));
}

/** Whether a step has two different sides worth showing side by side (identical ones have nothing to show). */
export function isComparable(s: IStepResult): boolean {
  return (
    s.claimed !== undefined &&
    s.reproduced !== undefined &&
    !['not-sampled', 'identical', 'skipped'].includes(s.verdict)
  );
}

function firstLine(source: string): string {
  const line = source.split('\n').find(l => l.trim()) ?? '';
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

/** A step of a report by cell id (preferred: a cell keeps its id) or step. */
export function findStep(
  report: IVerificationReport,
  where: { cellId?: string; step?: number }
): IStepResult | undefined {
  return (
    (where.cellId !== undefined ? report.steps.find(s => s.cellId === where.cellId) : undefined) ??
    (where.step !== undefined ? report.steps.find(s => s.step === where.step) : undefined)
  );
}

/** The newest verification of a run, summed up for the sidebar: "Reproduced: 3 reproduced, 1 mismatch · …". */
export function latestVerificationSummary(
  evidence: IAinNotebookEvidence | undefined,
  runId: Hex32
): string | null {
  const mine = (evidence?.verifications ?? []).filter(v => v.runId === runId);
  if (mine.length === 0) {
    return null;
  }
  const at = mine.reduce((a, v) => (v.at > a ? v.at : a), '');
  const latest = mine.filter(v => v.at === at);
  const counts = new Map<IAinVerificationRecord['level'], number>();
  latest.forEach(v => counts.set(v.level, (counts.get(v.level) ?? 0) + 1));
  const method = latest[0].method ?? 'verification';
  const parts = [...counts].map(([level, n]) => `${n} ${level}`);
  const where = latest[0].executor ? ` on ${latest[0].executor}` : '';
  const tx = latest.find(v => v.txHash)?.txHash;
  return `${method}${where}: ${parts.join(', ')} (${at})${tx ? `; attested in ${tx}` : ''}`;
}

/**
 * The challenges still open in a notebook's evidence, for one run or all: what the chain layer's findChallenges
 * proves (signatures checked), less the equivocations already challenged (challengeTx) and the runs the re-check
 * found slashed already (a second slash reverts).
 */
export function openChallenges(
  evidence: IAinNotebookEvidence | undefined,
  check: IAinRecheckResult | undefined,
  runId?: Hex32
): ChallengeCandidate[] {
  if (!evidence) {
    return [];
  }
  const slashed = new Set((check?.runs ?? []).filter(r => r.status === 'slashed').map(r => r.runId));
  const challenged = new Set(
    (evidence.equivocations ?? []).filter(e => e.challengeTx).map(e => `${e.runId}:${e.step}`)
  );
  return findChallenges(evidence, check ?? null).filter(
    c =>
      (runId === undefined || c.runId === runId) &&
      !slashed.has(c.runId) &&
      !(c.kind === 'equivocation' && challenged.has(`${c.runId}:${c.step}`))
  );
}

/** What a failed attestation means for the user. */
export interface IAttestFailure {
  kind: 'already-attested' | 'own-run' | 'other';
  message: string;
}

/**
 * Reads a failed attestation: the contract's AlreadyAttested and ProviderCannotAttest (as CHAIN_REVERTED, or as
 * attestReport's VERIFY_CANNOT_ATTEST) get their own words.
 */
export function attestFailure(e: unknown, account: string | null): IAttestFailure {
  const name = isAinError(e) ? String(e.info.error ?? '') : '';
  if (name === 'AlreadyAttested') {
    return {
      kind: 'already-attested',
      message:
        `This wallet${account ? ` (${account})` : ''} has already attested this run: the RunRegistry keeps one ` +
        'attestation per verifier and run. The earlier attestation stands; nothing was sent.'
    };
  }
  if (name === 'ProviderCannotAttest') {
    return {
      kind: 'own-run',
      message:
        `The wallet${account ? ` ${account}` : ''} is the run's provider, and a provider cannot attest its own ` +
        'run. Attest with another account (a verifier that did not run it).'
    };
  }
  return { kind: 'other', message: e instanceof Error ? e.message : String(e) };
}

/** The providers a verifier may re-execute a run on: every reachable one but the run's own provider. */
export function otherProviders(
  providers: readonly IAinProviderListing[],
  runProvider: string
): IAinProviderListing[] {
  return providers.filter(
    p => p.address.toLowerCase() !== runProvider.toLowerCase() && p.reachable !== false
  );
}

/** The verification records with the attestation's transaction and verifier. */
export function withAttestation(
  records: readonly IAinVerificationRecord[],
  txHash: string,
  verifier: string
): IAinVerificationRecord[] {
  return records.map(r => ({ ...r, txHash, verifier }));
}

/** The progress notification's text (JupyterLab truncates notifications at 140 characters). */
export function progressText(title: string, done: number, total: number, message: string): string {
  const head = `${title}: ${total > 0 ? `${done}/${total}` : 'starting'}`;
  const text = message ? `${head} · ${message}` : head;
  return text.length > 140 ? `${text.slice(0, 139)}…` : text;
}
