/**
 * How `ain verify` shows a verification report: a table a person reads in a terminal or a CI log (step, cell,
 * verdict, detail, then the summary and the checkpoint statement), and JUnit XML for CI systems (one testcase per
 * step: a failure for a mismatch, skipped for steps outside the sample, an error for steps that could not be
 * compared).
 */
import type { IVerificationReport, IStepResult, StepVerdict } from '../core/verification.js';

/** How a verdict counts: passed, failed (a mismatch), skipped (not checked on purpose) or error (not comparable). */
export type VerdictClass = 'passed' | 'failed' | 'skipped' | 'error';

export function verdictClass(verdict: StepVerdict): VerdictClass {
  switch (verdict) {
    case 'identical':
    case 'normalized-equal':
    case 'within-tolerance':
    case 'objective-pass':
      return 'passed';
    case 'differs':
    case 'objective-fail':
    case 'unsigned-outputs':
      return 'failed';
    case 'skipped':
    case 'not-sampled':
      return 'skipped';
    default:
      return 'error';
  }
}

/** "3 (#4 a1b2c3d4)": the cell index (1-based, as JupyterLab numbers cells) and the start of its id. */
export function cellLabel(step: IStepResult): string {
  const index = step.cellIndex !== undefined ? `#${step.cellIndex + 1}` : '';
  const id = step.cellId ? step.cellId.slice(0, 8) : '';
  return [index, id].filter(Boolean).join(' ') || '-';
}

/** Lines of the readable report. `problems` are notes about the evidence (kept, dropped, unanchored). */
export function reportTable(report: IVerificationReport, notes: readonly string[] = []): string {
  const rows = report.steps.map(s => [
    String(s.step),
    cellLabel(s),
    (verdictClass(s.verdict) === 'failed' ? '✗ ' : verdictClass(s.verdict) === 'passed' ? '✓ ' : '· ') +
      s.verdict,
    s.detail
  ]);
  const head = ['step', 'cell', 'verdict', 'detail'];
  const widths = [0, 1, 2].map(i => Math.max(head[i].length, ...rows.map(r => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c))
      .join('  ')
      .trimEnd();
  const out = [
    `${report.level} verification of run ${report.runId} on ${report.executor}`,
    '',
    line(head),
    line(widths.map(w => '-'.repeat(w)).concat('------')),
    ...rows.map(line),
    ''
  ];
  if (report.checkpoint) {
    out.push(`checkpoints  ${report.checkpoint.statement}`);
  }
  for (const n of notes) {
    out.push(`note         ${n}`);
  }
  const result =
    report.outcome === 'verified' ? 'VERIFIED' : report.outcome === 'mismatch' ? 'MISMATCH' : 'ERROR';
  out.push(`result       ${result}: ${report.summary}${report.error ? ` (${report.error})` : ''}`);
  out.push(`time         ${(report.ms / 1000).toFixed(1)} s re-executing and comparing`);
  return out.join('\n');
}

/** JUnit XML of the report (the common Ant/Jenkins schema that CI systems read). */
export function reportJunit(report: IVerificationReport, notebook: string): string {
  const counts = { tests: report.steps.length, failures: 0, errors: 0, skipped: 0 };
  const cases = report.steps.map(s => {
    const cls = verdictClass(s.verdict);
    const time = ((s.ms ?? 0) / 1000).toFixed(3);
    const name = `step ${s.step} (cell ${cellLabel(s)})`;
    const open = `    <testcase classname="${xml(notebook)}" name="${xml(name)}" time="${time}"`;
    switch (cls) {
      case 'passed':
        return `${open}>\n      <system-out>${xml(`${s.verdict}: ${s.detail}`)}</system-out>\n    </testcase>`;
      case 'failed':
        counts.failures++;
        return `${open}>\n      <failure type="${xml(s.verdict)}" message="${xml(s.detail)}">${xml(failureText(s))}</failure>\n    </testcase>`;
      case 'skipped':
        counts.skipped++;
        return `${open}>\n      <skipped message="${xml(`${s.verdict}: ${s.detail}`)}"/>\n    </testcase>`;
      default:
        counts.errors++;
        return `${open}>\n      <error type="${xml(s.verdict)}" message="${xml(s.detail)}"/>\n    </testcase>`;
    }
  });
  if (report.outcome === 'error' && report.steps.length === 0) {
    counts.tests = 1;
    counts.errors = 1;
    cases.push(
      `    <testcase classname="${xml(notebook)}" name="verification" time="0.000">\n      <error type="error" message="${xml(report.error ?? report.summary)}"/>\n    </testcase>`
    );
  }
  const attrs = `tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="${(report.ms / 1000).toFixed(3)}"`;
  const suite = `ain verify ${notebook} (${report.level}, run ${report.runId})`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ain verify" ${attrs}>`,
    `  <testsuite name="${xml(suite)}" ${attrs} timestamp="${xml(report.startedAt)}">`,
    `    <properties>`,
    `      <property name="outcome" value="${xml(report.outcome)}"/>`,
    `      <property name="summary" value="${xml(report.summary)}"/>`,
    ...(report.checkpoint
      ? [`      <property name="checkpoints" value="${xml(report.checkpoint.statement)}"/>`]
      : []),
    `    </properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    ''
  ].join('\n');
}

/** The failure body: the detail and the first difference, when the comparison found one. */
function failureText(s: IStepResult): string {
  const d = s.comparison?.firstDifference;
  if (!d) {
    return s.detail;
  }
  return `${s.detail}\nfirst difference: ${JSON.stringify(d)}`;
}

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold. */
export function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
