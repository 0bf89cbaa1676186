/**
 * The side-by-side view of a step's claimed and reproduced outputs, as data: the outputs in the form they were
 * compared in (normalized, or plain for `ain:compare=exact`), cut into blocks (a stream, an error field, one MIME
 * value), with the first difference of the core comparison marked on both sides. The DOM view (verify-diff-view.ts)
 * only draws this; the rules are unit-tested here.
 */
import type { OutputComparison, OutputDifference } from '../core/outputs-compare.js';
import { NbOutput, normalizeOutputs, plainOutputs } from '../core/outputs-normalize.js';
import { ComparisonMode, comparisonOptionsFromTags } from '../core/outputs-tolerance.js';

/** One piece of one output: a stream's text, an error's name or value, one MIME value. */
export interface IDiffBlock {
  /** "output 2 · execute_result · text/plain" */
  title: string;
  text: string;
  outputIndex: number;
  field: string;
  mimeType?: string;
  /** The first difference, as a range of `text` (UTF-16 offsets, end exclusive). */
  mark?: { start: number; end: number };
}

export interface ISideBySide {
  claimed: IDiffBlock[];
  reproduced: IDiffBlock[];
  /** "normalized" (what the comparison saw after masking) or "plain" (exact comparison). */
  form: 'normalized' | 'plain';
  /** The first difference in words, or null when none was found. */
  difference: string | null;
}

/**
 * Lays out both sides. Outputs that cannot be normalized (malformed) are shown as they are, in one JSON block, so
 * the view still shows what the provider claimed.
 */
export function sideBySide(
  claimed: readonly NbOutput[],
  reproduced: readonly NbOutput[],
  comparison: OutputComparison | undefined,
  mode: ComparisonMode = 'tolerance'
): ISideBySide {
  const form = mode === 'exact' ? 'plain' : 'normalized';
  const d = comparison?.firstDifference;
  const left = blocks(claimed, form);
  const right = blocks(reproduced, form);
  if (d) {
    markDifference(left, d, 'expected');
    markDifference(right, d, 'actual');
  }
  return { claimed: left, reproduced: right, form, difference: d ? describe(d) : null };
}

/** The difference in one sentence. */
export function describe(d: OutputDifference): string {
  const where =
    `output ${d.outputIndex + 1}` +
    (d.mimeType ? ` (${d.mimeType})` : '') +
    (d.line !== undefined ? `, line ${d.line}, column ${d.column}` : '') +
    (d.path ? `, at ${d.path}` : '');
  return `First difference at ${where}: ${d.reason}. Claimed ${JSON.stringify(d.expected)}, reproduced ${JSON.stringify(d.actual)}.`;
}

function blocks(outputs: readonly NbOutput[], form: 'normalized' | 'plain'): IDiffBlock[] {
  let list: readonly Record<string, unknown>[];
  try {
    list = (form === 'plain' ? plainOutputs(outputs) : normalizeOutputs(outputs)) as Record<
      string,
      unknown
    >[];
  } catch {
    return [
      {
        title: 'outputs (malformed)',
        text: JSON.stringify(outputs, null, 2),
        outputIndex: 0,
        field: 'outputs'
      }
    ];
  }
  const out: IDiffBlock[] = [];
  list.forEach((o, i) => {
    const head = `output ${i + 1} · ${String(o.output_type)}`;
    if (o.output_type === 'stream') {
      out.push({ title: `${head} (${String(o.name)})`, text: String(o.text), outputIndex: i, field: 'text' });
    } else if (o.output_type === 'error') {
      out.push({ title: `${head} · ename`, text: String(o.ename), outputIndex: i, field: 'ename' });
      out.push({ title: `${head} · evalue`, text: String(o.evalue), outputIndex: i, field: 'evalue' });
      if (Array.isArray(o.traceback)) {
        out.push({
          title: `${head} · traceback`,
          text: (o.traceback as string[]).join('\n'),
          outputIndex: i,
          field: 'traceback'
        });
      }
    } else {
      const data = (o.data ?? {}) as Record<string, unknown>;
      const mimes = Object.keys(data).sort();
      if (mimes.length === 0) {
        out.push({ title: head, text: '', outputIndex: i, field: 'data' });
      }
      for (const mime of mimes) {
        const v = data[mime];
        out.push({
          title: `${head} · ${mime}`,
          text: typeof v === 'string' ? v : JSON.stringify(v, null, 2),
          outputIndex: i,
          field: 'data',
          mimeType: mime
        });
      }
    }
  });
  return out;
}

/** Marks the difference in the block it concerns on one side (the whole block when no position is known). */
function markDifference(side: IDiffBlock[], d: OutputDifference, which: 'expected' | 'actual'): void {
  if (d.field === 'outputs' || d.field === 'output_type' || d.field === 'name') {
    // A missing or different output: mark the first block of that output, whole, on the side that has it.
    const first = side.find(b => b.outputIndex === d.outputIndex);
    if (first) {
      first.mark = { start: 0, end: first.text.length };
    }
    return;
  }
  const block =
    side.find(
      b =>
        b.outputIndex === d.outputIndex &&
        b.field === d.field &&
        (d.mimeType === undefined || b.mimeType === d.mimeType)
    ) ?? side.find(b => b.outputIndex === d.outputIndex);
  if (!block) {
    return;
  }
  let start: number | null = null;
  if (d.offset !== undefined) {
    start = d.offset;
  } else if (d.line !== undefined && d.column !== undefined) {
    start = offsetOf(block.text, d.line, d.column);
  } else {
    const snippet = which === 'expected' ? d.expected : d.actual;
    const at = snippet ? block.text.indexOf(snippet) : -1;
    start = at >= 0 ? at : null;
  }
  if (start === null) {
    block.mark = { start: 0, end: block.text.length };
    return;
  }
  start = Math.min(start, block.text.length);
  const lineEnd = block.text.indexOf('\n', start);
  const end = lineEnd < 0 ? block.text.length : lineEnd;
  // An empty range (the text ends where the other goes on) still shows: mark one position.
  block.mark = { start, end: Math.max(end, Math.min(start + 1, block.text.length)) };
}

/** The UTF-16 offset of a 1-based line and column, clamped to the line's end. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) {
      return text.length;
    }
    offset = next + 1;
  }
  const lineEnd = text.indexOf('\n', offset);
  const end = lineEnd < 0 ? text.length : lineEnd;
  return Math.min(offset + Math.max(0, column - 1), end);
}

/** The comparison mode of a notebook cell from its `ain:compare=` tag (tolerance when absent or unreadable). */
export function cellComparisonMode(notebook: object, cellIndex: number | undefined): ComparisonMode {
  const cell = (notebook as { cells?: { metadata?: { tags?: unknown } }[] }).cells?.[cellIndex ?? -1];
  const tags = Array.isArray(cell?.metadata?.tags) ? (cell.metadata.tags as string[]) : [];
  try {
    return comparisonOptionsFromTags(tags).mode;
  } catch {
    return 'tolerance'; // an invalid tag: the verification itself reports it
  }
}
