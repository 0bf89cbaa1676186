/**
 * What the re-check of a run's evidence means for `ain verify`: receipts whose signature, digest or chain fail,
 * and receipts an anchored root contradicts, fail the verification before anything is re-executed (exit 1);
 * receipts no checkpoint covers yet are only a note (they are signed, just not anchored). Printed as a table, in
 * the JSON report, and as JUnit failures.
 */
import type { ChallengeCandidate } from '../chain/challenges.js';
import type { IAinRecheckResult } from '../core/evidence.js';
import type { Hex32 } from '../core/hash.js';
import { xml } from './verify-report.js';

export interface IEvidenceSummary {
  runId: Hex32;
  /** On-chain status of the run ('open', 'closed', 'settled', 'slashed') and what was read. */
  status: string | null;
  chainNote: string;
  receipts: number;
  anchored: number;
  /** Receipts that fail their checks (bad signature, altered, broken chain): invalid evidence. */
  invalid: { step: number; reason: string }[];
  /** Receipts an anchored checkpoint root contradicts: a failed proof, challengeable on-chain. */
  contradicted: { step: number; reason: string }[];
  /** Steps the provider signed two different receipts for (equivocation), challengeable on-chain. */
  equivocations: { step: number; reason: string }[];
  notes: string[];
}

/** Summarizes the re-check of run `runId`; `challenges` (findChallenges) adds the proven equivocations. */
export function summarizeEvidence(
  recheck: IAinRecheckResult,
  runId: Hex32,
  challenges: readonly ChallengeCandidate[] = []
): IEvidenceSummary {
  const run = recheck.runs.find(r => r.runId === runId);
  const checks = recheck.receipts.filter(c => c.runId === runId);
  const invalid = checks
    .filter(c => c.signature !== null || c.integrity !== null)
    .map(c => ({ step: c.step, reason: (c.signature ?? c.integrity) as string }));
  const contradicted = checks.filter(c => c.contradicted).map(c => ({ step: c.step, reason: c.anchorNote }));
  const anchored = checks.filter(c => c.anchored).length;
  const equivocations = challenges
    .filter(c => c.kind === 'equivocation' && c.runId === runId)
    .map(c => ({
      step: c.step,
      reason: `The provider signed two different receipts for step ${c.step}: ${c.why}.`
    }));
  const notes: string[] = [];
  if (anchored < checks.length && contradicted.length === 0) {
    const open = checks.filter(c => !c.anchored && c.signature === null && c.integrity === null);
    notes.push(
      `${anchored} of ${checks.length} receipts are proven under an anchored checkpoint` +
        (open.length ? `; step(s) ${open.map(c => c.step).join(', ')}: ${open[0].anchorNote}` : '')
    );
  } else {
    notes.push(`all ${checks.length} receipts signed by the provider and proven under anchored checkpoints`);
  }
  if (contradicted.length || equivocations.length) {
    notes.push('the provider contradicted itself: `ain challenge` (or --challenge) slashes its stake');
  }
  return {
    runId,
    status: run?.status ?? null,
    chainNote: run?.chainNote ?? 'no run record',
    receipts: checks.length,
    anchored,
    invalid,
    contradicted,
    equivocations,
    notes
  };
}

/** True when the evidence fails: a receipt invalid, contradicted by an anchored root, or signed twice. */
export function evidenceFails(s: IEvidenceSummary): boolean {
  return s.invalid.length > 0 || s.contradicted.length > 0 || s.equivocations.length > 0;
}

/** The readable lines of failing evidence. */
export function evidenceTable(s: IEvidenceSummary): string {
  const rows = [
    ...s.invalid.map(i => [String(i.step), '✗ invalid', i.reason]),
    ...s.contradicted.map(i => [String(i.step), '✗ contradicted', i.reason]),
    ...s.equivocations.map(i => [String(i.step), '✗ equivocation', i.reason])
  ];
  const width = Math.max(4, ...rows.map(r => r[0].length));
  return [
    `evidence of run ${s.runId}: ${s.receipts} receipts, ${s.anchored} anchored (${s.chainNote})`,
    '',
    `${'step'.padEnd(width)}  ${'check'.padEnd(15)}  detail`,
    ...rows.map(r => `${r[0].padEnd(width)}  ${r[1].padEnd(15)}  ${r[2]}`),
    '',
    ...s.notes.map(n => `note         ${n}`),
    `result       MISMATCH: the evidence fails its checks at ${rows.length} receipt(s); nothing was re-executed`
  ].join('\n');
}

/** JUnit XML of failing evidence: one failed testcase per bad receipt. */
export function evidenceJunit(s: IEvidenceSummary, notebook: string): string {
  const failures = [
    ...s.invalid.map(i => ({ ...i, type: 'invalid-evidence' })),
    ...s.contradicted.map(i => ({ ...i, type: 'contradicted' })),
    ...s.equivocations.map(i => ({ ...i, type: 'equivocation' }))
  ];
  const attrs = `tests="${failures.length}" failures="${failures.length}" errors="0" skipped="0" time="0.000"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ain verify" ${attrs}>`,
    `  <testsuite name="${xml(`ain verify ${notebook} (evidence, run ${s.runId})`)}" ${attrs}>`,
    ...failures.map(
      f =>
        `    <testcase classname="${xml(notebook)}" name="receipt of step ${f.step}" time="0.000">\n` +
        `      <failure type="${f.type}" message="${xml(f.reason)}"/>\n    </testcase>`
    ),
    '  </testsuite>',
    '</testsuites>',
    ''
  ].join('\n');
}
