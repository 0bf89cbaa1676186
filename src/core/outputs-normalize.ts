/**
 * Normalization of nbformat 4 cell outputs into the canonical form that runs are compared and hashed by.
 *
 * Two honest runs of a cell rarely print the same bytes: kernels split streams at arbitrary points, reprs carry
 * memory addresses, logs carry timestamps, widgets get fresh model ids. The normalized form keeps what a reader of
 * the notebook relies on and drops or masks the rest, so that the provider agent, the extension and any verifier
 * derive the same bytes, and from them the same salted output hash of a step receipt.
 */
import { getBytes } from 'ethers';
import { canonicalBytes } from './canonical-json.js';
import { makeError } from './errors.js';
import { Hex32, sha256 } from './hash.js';
import {
  applyTerminalControl,
  DEFAULT_TEXT_OPTIONS,
  normalizeText,
  TextNormalizeOptions
} from './outputs-text.js';

/** A string, or nbformat's list form of one (joined with no separator). */
export type MultilineString = string | readonly string[];

/** A MIME bundle: MIME type -> value (a multiline string, or any JSON value for JSON types). */
export type MimeBundle = Readonly<Record<string, unknown>>;

/** nbformat 4 `stream` output. */
export interface NbStreamOutput {
  output_type: 'stream';
  name: string;
  text: MultilineString;
}

/** nbformat 4 `display_data` output (`transient` comes from kernel messages). */
export interface NbDisplayDataOutput {
  output_type: 'display_data';
  data: MimeBundle;
  metadata?: unknown;
  transient?: unknown;
}

/** nbformat 4 `execute_result` output. */
export interface NbExecuteResultOutput {
  output_type: 'execute_result';
  execution_count?: number | null;
  data: MimeBundle;
  metadata?: unknown;
  transient?: unknown;
}

/** nbformat 4 `error` output. */
export interface NbErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback?: readonly string[];
}

/** One nbformat 4 cell output. */
export type NbOutput = NbStreamOutput | NbDisplayDataOutput | NbExecuteResultOutput | NbErrorOutput;

/** A MIME value after normalization: a string, or the JSON value of a JSON MIME type. */
export type NormalizedMimeValue = unknown;

/** One output in normalized form. Its canonical JSON is what the output hash covers. */
export type NormalizedOutput =
  | { output_type: 'stream'; name: string; text: string }
  | { output_type: 'display_data' | 'execute_result'; data: Record<string, NormalizedMimeValue> }
  | { output_type: 'error'; ename: string; evalue: string };

/** One output with only execution counts, metadata and `transient` dropped and multiline strings joined. */
export type PlainOutput =
  | { output_type: 'stream'; name: string; text: string }
  | { output_type: 'display_data' | 'execute_result'; data: Record<string, unknown> }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

/** Options of normalizeOutputs: the text passes, plus stream merging. All on by default. */
export interface NormalizeOptions extends Partial<TextNormalizeOptions> {
  /** Merge consecutive stream outputs of the same name (kernels split streams arbitrarily). */
  mergeStreams?: boolean;
}

/** The MIME type of a widget view, whose `model_id` changes on every run. */
export const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json';

/** How a MIME value is normalized: see normalizeMimeValue. */
export type MimeKind = 'text' | 'exact' | 'binary' | 'json' | 'widget';

/**
 * Classifies a MIME type: `text/*` and `application/javascript` are text (all text passes); `image/svg+xml` is
 * exact text (joined only); other `image/*` are base64 (exact bytes); `application/json`, `*+json` are JSON (the
 * value as is); the widget view is reduced to its presence; any other string-valued type is exact text.
 */
export function mimeKind(mime: string): MimeKind {
  if (mime === WIDGET_VIEW_MIME) {
    return 'widget';
  }
  if (mime === 'application/json' || mime.endsWith('+json')) {
    return 'json';
  }
  if (mime === 'image/svg+xml') {
    return 'exact';
  }
  if (mime.startsWith('text/') || mime === 'application/javascript') {
    return 'text';
  }
  return mime.startsWith('image/') ? 'binary' : 'exact';
}

/**
 * Returns the normalized form of `outputs`:
 * - `stream` -> `{ output_type, name, text }`; empty streams dropped, consecutive streams of one name merged,
 *   then `\r` and `\b` applied as JupyterLab does, then the text passes; a stream left empty is dropped;
 * - `display_data` / `execute_result` -> `{ output_type, data }` (no `execution_count`, `metadata`, `transient`):
 *   text types through the text passes, SVG joined only, base64 images with ASCII whitespace removed (their bytes
 *   stay exact), JSON types as is, the widget view as `{}` (its `model_id` dropped);
 * - `error` -> `{ output_type, ename, evalue }` with `evalue` through the text passes; the traceback is dropped
 *   (paths and ANSI).
 * Throws OUTPUT_MALFORMED for anything that is not an nbformat 4 output.
 */
export function normalizeOutputs(
  outputs: readonly NbOutput[],
  options: NormalizeOptions = {}
): NormalizedOutput[] {
  const text: TextNormalizeOptions = { ...DEFAULT_TEXT_OPTIONS, ...definedOnly(options) };
  const merge = options.mergeStreams ?? true;
  const result: NormalizedOutput[] = [];
  // Streams are merged before any text pass: a split may cut an escape sequence or a timestamp in two.
  let pending: { name: string; parts: string[] } | undefined;
  const flush = (): void => {
    if (pending) {
      const normalized = normalizeText(applyTerminalControl(pending.parts.join('')), text);
      // A stream of nothing but control sequences (hiding the cursor, say) shows nothing: it does not count.
      if (normalized !== '') {
        result.push({ output_type: 'stream', name: pending.name, text: normalized });
      }
      pending = undefined;
    }
  };
  checkList(outputs);
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    checkOutput(output, i);
    if (output.output_type === 'stream') {
      const part = joinMultiline(output.text, i, 'text');
      if (part === '') {
        continue;
      }
      if (pending && merge && pending.name === output.name) {
        pending.parts.push(part);
        continue;
      }
      flush();
      pending = { name: output.name, parts: [part] };
      continue;
    }
    flush();
    if (output.output_type === 'error') {
      result.push({ output_type: 'error', ename: output.ename, evalue: normalizeText(output.evalue, text) });
    } else {
      const data: Record<string, NormalizedMimeValue> = {};
      for (const mime of Object.keys(output.data)) {
        data[mime] = normalizeMimeValue(mime, output.data[mime], text, i);
      }
      result.push({ output_type: output.output_type, data });
    }
  }
  flush();
  return result;
}

/**
 * Returns `outputs` with only execution counts, `metadata` and `transient` dropped and multiline strings joined:
 * what a naive comparison sees. Streams are not merged, tracebacks and widget model ids are kept.
 */
export function plainOutputs(outputs: readonly NbOutput[]): PlainOutput[] {
  checkList(outputs);
  return outputs.map((output, i): PlainOutput => {
    checkOutput(output, i);
    switch (output.output_type) {
      case 'stream':
        return { output_type: 'stream', name: output.name, text: joinMultiline(output.text, i, 'text') };
      case 'error':
        return {
          output_type: 'error',
          ename: output.ename,
          evalue: output.evalue,
          traceback: [...(output.traceback ?? [])]
        };
      default: {
        const data: Record<string, unknown> = {};
        for (const mime of Object.keys(output.data)) {
          const value = output.data[mime];
          data[mime] =
            mimeKind(mime) === 'json' || mimeKind(mime) === 'widget' ? value : joinMultiline(value, i, mime);
        }
        return { output_type: output.output_type, data };
      }
    }
  });
}

/** UTF-8 bytes of the RFC 8785 canonical JSON of `normalizeOutputs(outputs)` with default options. */
export function normalizedOutputsBytes(outputs: readonly NbOutput[]): Uint8Array {
  return canonicalBytes(normalizeOutputs(outputs));
}

/**
 * The salted output hash of a step receipt (`outputHash` of DESIGN.md §4). Exactly:
 *
 *     sha256( salt[32 bytes] || utf8( JCS( normalizeOutputs(outputs) ) ) )
 *
 * - `salt` is the run's 32-byte salt, given as 0x + 64 hex digits and hashed as its 32 raw bytes;
 * - `normalizeOutputs` runs with default options (every pass on; never configurable, so that the agent, the
 *   extension and verifiers hash the same bytes); its result is a JSON array, one object per normalized output;
 * - JCS is RFC 8785 canonical JSON (keys sorted by UTF-16 code units, no whitespace, ES number form), UTF-8 encoded.
 * The salt keeps the chain from revealing guessable outputs (`True`, `42`) to anyone who hashes candidates.
 * Throws OUTPUT_INVALID_SALT for a salt that is not 32 bytes of hex, OUTPUT_MALFORMED for malformed outputs.
 */
export function outputHash(outputs: readonly NbOutput[], salt: Hex32): Hex32 {
  if (typeof salt !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(salt)) {
    throw makeError(
      'OUTPUT_INVALID_SALT',
      `The output salt must be 32 bytes as 0x and 64 hex digits, got ${JSON.stringify(String(salt)).slice(0, 80)}. ` +
        "Use the run's salt as recorded with the run.",
      { salt }
    );
  }
  const body = normalizedOutputsBytes(outputs);
  const message = new Uint8Array(32 + body.length);
  message.set(getBytes(salt), 0);
  message.set(body, 32);
  return sha256(message);
}

/** Normalizes one MIME value according to mimeKind. */
function normalizeMimeValue(
  mime: string,
  value: unknown,
  options: TextNormalizeOptions,
  index: number
): NormalizedMimeValue {
  switch (mimeKind(mime)) {
    case 'widget':
      return {};
    case 'json':
      return value;
    case 'text':
      return normalizeText(joinMultiline(value, index, mime), options);
    case 'binary':
      // Base64 line breaks are not part of the image: removing them keeps the decoded bytes exact.
      return stripAsciiWhitespace(joinMultiline(value, index, mime));
    default:
      return joinMultiline(value, index, mime);
  }
}

function stripAsciiWhitespace(base64: string): string {
  // indexOf runs at memory speed; the regular expression costs ~1 ms per MB even when there is nothing to remove.
  for (const c of ['\n', ' ', '\r', '\t', '\f']) {
    if (base64.indexOf(c) !== -1) {
      return base64.replace(/[\t\n\f\r ]+/g, '');
    }
  }
  return base64;
}

function joinMultiline(value: unknown, index: number, field: string): string {
  if (typeof value === 'string') {
    return value;
  }
  if (Array.isArray(value) && value.every(part => typeof part === 'string')) {
    return value.join('');
  }
  throw malformed(index, `its ${field} is neither a string nor a list of strings`);
}

function checkList(outputs: unknown): void {
  if (!Array.isArray(outputs)) {
    throw makeError('OUTPUT_MALFORMED', 'Cell outputs must be a list of nbformat 4 outputs.', {});
  }
}

function checkOutput(output: unknown, index: number): asserts output is NbOutput {
  if (typeof output !== 'object' || output === null) {
    throw malformed(index, 'it is not an object');
  }
  const o = output as Record<string, unknown>;
  switch (o.output_type) {
    case 'stream':
      if (typeof o.name !== 'string') {
        throw malformed(index, 'a stream needs a string name (stdout or stderr)');
      }
      return;
    case 'display_data':
    case 'execute_result':
      if (typeof o.data !== 'object' || o.data === null || Array.isArray(o.data)) {
        throw malformed(index, `${o.output_type} needs a data object (MIME type -> value)`);
      }
      return;
    case 'error':
      if (typeof o.ename !== 'string' || typeof o.evalue !== 'string') {
        throw malformed(index, 'an error needs string ename and evalue');
      }
      return;
    default:
      throw malformed(
        index,
        `its output_type ${JSON.stringify(o.output_type)} is not stream, display_data, execute_result or error`
      );
  }
}

function malformed(index: number, why: string) {
  return makeError(
    'OUTPUT_MALFORMED',
    `Output ${index} is not a valid nbformat 4 output: ${why}. Pass outputs as stored in an .ipynb file.`,
    { index }
  );
}

function definedOnly(options: NormalizeOptions): Partial<TextNormalizeOptions> {
  const result: Partial<TextNormalizeOptions> = {};
  for (const key of Object.keys(DEFAULT_TEXT_OPTIONS) as (keyof TextNormalizeOptions)[]) {
    if (options[key] !== undefined) {
      result[key] = options[key];
    }
  }
  return result;
}
