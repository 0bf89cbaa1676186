/**
 * How the CLI tells a person what an environment will be: which files count, what will be installed, and what a
 * provider refuses or ignores, each with its reason and what to do.
 */
import { EnvironmentReport } from '../core/environment.js';

/** Prints the environment report as aligned lines on stdout. */
export function printEnvironment(report: EnvironmentReport): void {
  const where = report.root ? ` (from ${report.root})` : '';
  console.log(`environment  ${report.kind}${where} ${report.environmentHash}`);
  console.log(
    `  files      ${report.files.length ? report.files.join(', ') : '(none: the provider default Python 3)'}`
  );
  const { install } = report;
  console.log(`  python     ${install.python ?? 'provider default (3.x)'}`);
  if (install.conda) {
    console.log(`  conda      ${install.conda.dependencies.join(' ') || '(nothing)'}`);
  }
  const requirements = install.requirements.map(r => r.requirement);
  console.log(`  install    ${requirements.length ? requirements.join(' ') : '(nothing beyond ipykernel)'}`);
  for (const r of report.refused) {
    const at = r.line ? `${r.file}:${r.line}` : r.file;
    const items = r.items?.length ? ` [${r.items.join(', ')}]` : '';
    console.log(`  REFUSED    ${at}: ${r.reason}${items}. ${r.advice}`);
  }
  for (const i of report.ignored) {
    console.log(`  ignored    ${i.file}: ${i.reason}`);
  }
}
