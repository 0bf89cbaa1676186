/**
 * Comparison of a cell's outputs between two runs (the original and a reproduction), with a graded verdict and the
 * first place where they part, so a badge can say how well a result was reproduced and a reader can see why not.
 */
import {
  mimeKind,
  NbOutput,
  normalizeOutputs,
  NormalizedOutput,
  plainOutputs,
  PlainOutput
} from './outputs-normalize.js';
import {
  commonPrefixLength,
  compareTextWithTolerance,
  ComparisonOptions,
  isClose,
  resolveComparisonOptions
} from './outputs-tolerance.js';

/**
 * From strongest to weakest: `identical` (equal once execution counts, metadata and `transient` are dropped: what
 * a naive comparison sees), `normalized-equal` (equal after normalizeOutputs), `within-tolerance` (equal after
 * normalization but for numbers that satisfy `|a-b| <= atol + rtol*|b|`), `differs`; `skipped` when the cell's
 * mode is `skip`.
 */
export type OutputVerdict = 'identical' | 'normalized-equal' | 'within-tolerance' | 'differs' | 'skipped';

/** The first place where two output lists differ, at the level the verdict was decided. */
export interface OutputDifference {
  /** Index of the output: in the normalized lists (streams merged) unless the mode is `exact`. */
  outputIndex: number;
  /** What differs: `outputs` (count), `output_type`, `name`, `text`, `data`, `ename`, `evalue` or `traceback`. */
  field: string;
  /** The MIME type, when `field` is `data`. */
  mimeType?: string;
  /** JSON pointer inside a JSON MIME value. */
  path?: string;
  /** 1-based line and column (UTF-16 units) in the expected text. */
  line?: number;
  column?: number;
  /** Offset of the first differing character of a base64 image or exact-text value. */
  offset?: number;
  /** Up to 60 characters of each side around the difference. */
  expected: string;
  actual: string;
  /** Why this place differs, in words. */
  reason: string;
}

/** Result of compareOutputs. */
export interface OutputComparison {
  verdict: OutputVerdict;
  firstDifference?: OutputDifference;
}

type AnyOutput = PlainOutput | NormalizedOutput;
type Where = Omit<OutputDifference, 'expected' | 'actual' | 'reason'>;
interface Walk {
  tolerance?: { rtol: number; atol: number };
  used: { tolerance: boolean };
}

/**
 * Compares the outputs of one cell: `expected` from the original run, `actual` from the reproduction. The mode
 * (default `tolerance`, see comparisonOptionsFromTags) caps how lenient the verdict may be: `exact` yields only
 * identical or differs, `normalized` adds normalized-equal, `tolerance` adds within-tolerance. Images and SVG are
 * compared byte for byte in every mode. Throws OUTPUT_MALFORMED or OUTPUT_INVALID_TOLERANCE.
 */
export function compareOutputs(
  expected: readonly NbOutput[],
  actual: readonly NbOutput[],
  options: Partial<ComparisonOptions> = {}
): OutputComparison {
  const { mode, rtol, atol } = resolveComparisonOptions(options);
  if (mode === 'skip') {
    return { verdict: 'skipped' };
  }
  const plainDifference = diffLists(plainOutputs(expected), plainOutputs(actual), {
    used: { tolerance: false }
  });
  if (!plainDifference) {
    return { verdict: 'identical' };
  }
  if (mode === 'exact') {
    return { verdict: 'differs', firstDifference: plainDifference };
  }
  const walk: Walk = { used: { tolerance: false } };
  if (mode === 'tolerance') {
    walk.tolerance = { rtol, atol };
  }
  const difference = diffLists(normalizeOutputs(expected), normalizeOutputs(actual), walk);
  if (difference) {
    return { verdict: 'differs', firstDifference: difference };
  }
  return { verdict: walk.used.tolerance ? 'within-tolerance' : 'normalized-equal' };
}

function diffLists(expected: AnyOutput[], actual: AnyOutput[], walk: Walk): OutputDifference | undefined {
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const e = expected[i];
    const a = actual[i];
    if (!e || !a) {
      return {
        outputIndex: i,
        field: 'outputs',
        expected: e ? summary(e) : '',
        actual: a ? summary(a) : '',
        reason: `expected ${expected.length} outputs, got ${actual.length}`
      };
    }
    const difference = diffOutput(e, a, i, walk);
    if (difference) {
      return difference;
    }
  }
  return undefined;
}

function diffOutput(e: AnyOutput, a: AnyOutput, i: number, walk: Walk): OutputDifference | undefined {
  if (e.output_type !== a.output_type) {
    return field(i, 'output_type', e.output_type, a.output_type, 'the output types differ');
  }
  if (e.output_type === 'stream' && a.output_type === 'stream') {
    if (e.name !== a.name) {
      return field(i, 'name', e.name, a.name, 'the stream names differ');
    }
    return diffText(e.text, a.text, { outputIndex: i, field: 'text' }, walk);
  }
  if (e.output_type === 'error' && a.output_type === 'error') {
    if (e.ename !== a.ename) {
      return field(i, 'ename', e.ename, a.ename, 'the exception types differ');
    }
    const evalue = diffText(e.evalue, a.evalue, { outputIndex: i, field: 'evalue' }, walk);
    if (evalue || !('traceback' in e) || !('traceback' in a)) {
      return evalue;
    }
    return diffText(
      e.traceback.join('\n'),
      a.traceback.join('\n'),
      { outputIndex: i, field: 'traceback' },
      walk
    );
  }
  if ('data' in e && 'data' in a) {
    return diffData(e.data, a.data, i, walk);
  }
  return undefined;
}

function diffData(
  e: Record<string, unknown>,
  a: Record<string, unknown>,
  i: number,
  walk: Walk
): OutputDifference | undefined {
  for (const mime of Object.keys(e)) {
    if (!(mime in a)) {
      return {
        outputIndex: i,
        field: 'data',
        mimeType: mime,
        expected: mime,
        actual: '',
        reason: `no ${mime} value`
      };
    }
  }
  for (const mime of Object.keys(a)) {
    if (!(mime in e)) {
      return {
        outputIndex: i,
        field: 'data',
        mimeType: mime,
        expected: '',
        actual: mime,
        reason: `extra ${mime} value`
      };
    }
  }
  for (const mime of Object.keys(e).sort()) {
    const where: Where = { outputIndex: i, field: 'data', mimeType: mime };
    const ev = e[mime];
    const av = a[mime];
    const kind = mimeKind(mime);
    const difference =
      kind === 'json' || kind === 'widget' || typeof ev !== 'string' || typeof av !== 'string'
        ? diffJson(ev, av, '', where, walk)
        : kind === 'text'
          ? diffText(ev, av, where, walk)
          : diffExact(
              ev,
              av,
              where,
              kind === 'binary' ? 'the image bytes differ (images compare byte for byte)' : ''
            );
    if (difference) {
      return difference;
    }
  }
  return undefined;
}

function diffText(e: string, a: string, where: Where, walk: Walk): OutputDifference | undefined {
  let eo: number;
  let ao: number;
  let reason = 'text differs';
  if (walk.tolerance) {
    const mismatch = compareTextWithTolerance(e, a, walk.tolerance.rtol, walk.tolerance.atol, walk.used);
    if (!mismatch) {
      return undefined;
    }
    ({ expectedOffset: eo, actualOffset: ao, reason } = mismatch);
  } else {
    if (e === a) {
      return undefined;
    }
    eo = ao = commonPrefixLength(e, a);
  }
  const { line, column } = lineAndColumn(e, eo);
  return { ...where, line, column, expected: snippet(e, eo), actual: snippet(a, ao), reason };
}

function diffExact(e: string, a: string, where: Where, reason: string): OutputDifference | undefined {
  if (e === a) {
    return undefined;
  }
  const offset = commonPrefixLength(e, a);
  return {
    ...where,
    offset,
    expected: snippet(e, offset),
    actual: snippet(a, offset),
    reason: reason || `${where.mimeType} differs (compared exactly)`
  };
}

function diffJson(
  e: unknown,
  a: unknown,
  path: string,
  where: Where,
  walk: Walk
): OutputDifference | undefined {
  const at = (reason: string): OutputDifference => ({
    ...where,
    path,
    expected: JSON.stringify(e)?.slice(0, 60) ?? '',
    actual: JSON.stringify(a)?.slice(0, 60) ?? '',
    reason
  });
  if (typeof e === 'number' && typeof a === 'number') {
    if (e === a) {
      return undefined;
    }
    if (walk.tolerance && isClose(a, e, walk.tolerance.rtol, walk.tolerance.atol)) {
      walk.used.tolerance = true;
      return undefined;
    }
    return at(walk.tolerance ? 'the numbers are not within tolerance' : 'the numbers differ');
  }
  if (e === null || a === null || typeof e !== 'object' || typeof a !== 'object') {
    return e === a ? undefined : at('the values differ');
  }
  if (Array.isArray(e) !== Array.isArray(a)) {
    return at('an array and an object');
  }
  if (Array.isArray(e) && Array.isArray(a) && e.length !== a.length) {
    return at(`arrays of ${e.length} and ${a.length} items`);
  }
  const eo = e as Record<string, unknown>;
  const ao = a as Record<string, unknown>;
  // Array items in order, so the first differing item is the one reported; object members in sorted order.
  const keys = Array.isArray(e)
    ? e.map((_, index) => String(index))
    : [...new Set([...Object.keys(eo), ...Object.keys(ao)])].sort();
  for (const key of keys) {
    const child = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!(key in eo) || !(key in ao)) {
      return { ...at(key in eo ? `no member ${key}` : `extra member ${key}`), path: child };
    }
    const difference = diffJson(eo[key], ao[key], child, where, walk);
    if (difference) {
      return difference;
    }
  }
  return undefined;
}

function field(i: number, name: string, e: string, a: string, reason: string): OutputDifference {
  return { outputIndex: i, field: name, expected: e, actual: a, reason };
}

function summary(output: AnyOutput): string {
  return JSON.stringify(output).slice(0, 60);
}

function snippet(text: string, offset: number): string {
  return text.slice(Math.max(0, offset - 20), offset + 40);
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}
