/**
 * Reading and writing the notebook `ain verify` and `ain challenge` work on: the notebook itself (any problem is
 * bad input, exit 2, with what to do), its metadata.ain read by the core, the run to verify, and an atomic write
 * that adds records to metadata.ain without dropping anything already there (even entries this version cannot
 * read).
 */
import { promises as fs, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeError } from '../core/errors.js';
import { IAinNotebookEvidence, IAinRunRecord, METADATA_KEY, readEvidence } from '../core/evidence.js';
import type { Hex32 } from '../core/hash.js';
import { parseNotebook } from '../core/notebook.js';

/** A notebook read for verification. */
export interface INotebookInput {
  file: string;
  /** The parsed JSON, as it is (written back with only metadata.ain changed). */
  notebook: Record<string, unknown> & { metadata?: Record<string, unknown> };
  evidence: IAinNotebookEvidence;
  /** What readEvidence dropped, with the reason. */
  problems: string[];
}

/** Reads `file`: a readable nbformat 4 notebook with a metadata.ain that holds receipts. */
export function readNotebookInput(file: string): INotebookInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw makeError(
      'VERIFY_INPUT_INVALID',
      `Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Check the path.`,
      { file }
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw makeError(
      'NOTEBOOK_INVALID_JSON',
      `${file} is not a notebook: it is not JSON. Give the .ipynb file saved by JupyterLab after the run.`,
      { file }
    );
  }
  try {
    parseNotebook(parsed as object);
  } catch (e) {
    throw makeError(
      'NOTEBOOK_MALFORMED',
      `${file} is not a notebook JupyterLab would open: ${(e as Error).message}`,
      { file }
    );
  }
  const notebook = parsed as INotebookInput['notebook'];
  const raw = notebook.metadata?.[METADATA_KEY];
  if (raw === undefined) {
    throw makeError(
      'VERIFY_INPUT_INVALID',
      `${basename(file)} has no metadata.ain, so it carries no evidence to verify. Run it on a provider with the ` +
        'JupyterLab extension (the receipts are saved in the notebook), or use the copy that was shared with them.',
      { file }
    );
  }
  const { evidence, problems } = readEvidence(raw);
  if (evidence.receipts.length === 0) {
    throw makeError(
      'VERIFY_INPUT_INVALID',
      `${basename(file)}'s metadata.ain holds no receipts${problems.length ? ` (${problems.join(' ')})` : ''}: ` +
        'there is nothing to verify. Run the notebook on a provider first.',
      { file }
    );
  }
  return { file, notebook, evidence, problems };
}

/** The run to verify: `runId`, else the latest opened run that has receipts (as the core engine picks it). */
export function pickRun(evidence: IAinNotebookEvidence, runId?: string): IAinRunRecord {
  const withReceipts = evidence.runs.filter(r => evidence.receipts.some(x => x.runId === r.runId));
  if (runId !== undefined) {
    const run = withReceipts.find(r => r.runId.toLowerCase() === runId.toLowerCase());
    if (!run) {
      throw makeError(
        'VERIFY_INPUT_INVALID',
        `Run ${runId} is not among the notebook's runs with receipts: ${withReceipts.map(r => r.runId).join(', ') || 'none'}.`,
        { runId }
      );
    }
    return run;
  }
  if (withReceipts.length === 0) {
    throw makeError(
      'VERIFY_INPUT_INVALID',
      "The notebook's receipts belong to no run recorded in metadata.ain.runs: the provider to check them against is unknown."
    );
  }
  return withReceipts.reduce((a, b) => (Date.parse(b.openedAt) > Date.parse(a.openedAt) ? b : a));
}

/** The evidence of one run only (other runs of the notebook are neither re-checked nor reported). */
export function runEvidence(evidence: IAinNotebookEvidence, runId: Hex32): IAinNotebookEvidence {
  return {
    ...evidence,
    runs: evidence.runs.filter(r => r.runId === runId),
    receipts: evidence.receipts.filter(r => r.runId === runId),
    checkpoints: evidence.checkpoints.filter(c => c.runId === runId),
    verifications: evidence.verifications.filter(v => v.runId === runId),
    ...(evidence.equivocations
      ? { equivocations: evidence.equivocations.filter(e => e.runId === runId) }
      : {})
  };
}

/**
 * Rewrites `file` with `update` applied to its raw metadata.ain (the object as stored, not the read copy), in
 * one rename so that a crash leaves either the old or the new notebook, never half of one. JupyterLab's layout
 * (one-space indent, trailing newline) is kept.
 */
export async function updateEvidence(
  file: string,
  update: (raw: Record<string, unknown>) => void
): Promise<void> {
  const current = JSON.parse(await fs.readFile(file, 'utf8')) as INotebookInput['notebook'];
  const metadata = (current.metadata ??= {});
  const raw = (metadata[METADATA_KEY] ??= { version: 1 }) as Record<string, unknown>;
  update(raw);
  const tmp = join(dirname(file), `.${basename(file)}.ain-${process.pid}.tmp`);
  await fs.writeFile(tmp, JSON.stringify(current, null, 1) + '\n');
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Appends `items` to the raw list `raw[key]` (created when missing; a non-list is kept under `<key>Unread`). */
export function appendRaw(raw: Record<string, unknown>, key: string, items: readonly unknown[]): void {
  const list = raw[key];
  if (list !== undefined && !Array.isArray(list)) {
    raw[`${key}Unread`] = list;
  }
  raw[key] = [...(Array.isArray(list) ? list : []), ...items];
}
