/**
 * The reliability suite's ledger (issue 7): every case a reliability spec tries is recorded here as one JSON file
 * under tests/reliability/results/ (not committed), and `npm run reliability` renders them into RELIABILITY.md
 * (scripts/reliability.js). A spec records what it actually tried and what survived, and also asserts it: the
 * table is a by-product of real tests, never a separate claim.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The four areas of RELIABILITY.md, in its order. */
export type ReliabilityArea = 'faults' | 'hostile-input' | 'isolation' | 'load';

export interface IReliabilityCase {
  /** Stable id, also the file name: `faults.agent-sigkill`. */
  id: string;
  area: ReliabilityArea;
  /** What was done, in one sentence: "SIGKILL the agent mid-run, then restart it". */
  case: string;
  /** How many times it was tried (inputs, drops, runs...), how many came through as promised, how many lost. */
  tried: number;
  survived: number;
  lost: number;
  /** The measured figure, with its unit: "p99 round trip 41 ms", "0 of 200 outputs lost". */
  figure?: string;
  /** What holds where, and what does not (e.g. "bubblewrap unavailable: kernel not sandboxed"). */
  note?: string;
}

/** Where the results go: RELIABILITY_RESULTS or tests/reliability/results. */
export const RESULTS_DIR = process.env.RELIABILITY_RESULTS ?? join(__dirname, 'results');

/** Records one case (overwrites an earlier result of the same id). */
export function recordCase(c: IReliabilityCase): void {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(c.id)) {
    throw new Error(`Reliability case id "${c.id}" must be lowercase letters, digits, dots and dashes.`);
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `${c.id}.json`),
    JSON.stringify({ ...c, at: new Date().toISOString() }, null, 1) + '\n'
  );
}
