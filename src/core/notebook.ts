/**
 * The notebook hash of DESIGN.md: a content hash of what a notebook *asks to compute*, free of what it computed.
 *
 * Counted: each cell's type, source (joined, line endings turned to LF), attachments and tags; the notebook's
 * `kernelspec.name` and `language_info.name`. Not counted: outputs, execution counts, cell ids and every other
 * metadata field, so re-running or re-saving a notebook keeps its hash while editing code, reordering cells,
 * changing a cell's type or its tags changes it.
 */
import { canonicalHash } from './canonical-json.js';
import { assert, makeError } from './errors.js';
import { Hex32, fromUtf8, sha256 } from './hash.js';

/** Format tag inside the hashed document, so a future change of the rules cannot collide with this one. */
export const NOTEBOOK_HASH_FORMAT = 'ain-notebook/1';

/** The smallest nbformat 4 shape this module reads (nbformat 4.0 to 4.5). */
export interface INotebookContent {
  nbformat: number;
  nbformat_minor: number;
  metadata?: {
    kernelspec?: { name?: string };
    language_info?: { name?: string };
    [key: string]: unknown;
  };
  cells: ICellContent[];
}

/** A cell as stored on disk: source as one string or a list of lines. */
export interface ICellContent {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  metadata?: { tags?: string[]; [key: string]: unknown };
  attachments?: Record<string, Record<string, string | string[]>>;
  outputs?: unknown[];
  execution_count?: number | null;
  id?: string;
}

/** The hashed, output-free form of one cell. */
export interface ICanonicalCell {
  type: 'code' | 'markdown' | 'raw';
  source: string;
  attachments: Record<string, unknown>;
  tags: string[];
}

/** The hashed, output-free form of a notebook. */
export interface ICanonicalNotebook {
  format: typeof NOTEBOOK_HASH_FORMAT;
  kernel: string | null;
  language: string | null;
  cells: ICanonicalCell[];
}

const CELL_TYPES = new Set(['code', 'markdown', 'raw']);

/**
 * Parses and checks a notebook given as text, UTF-8 bytes or an already parsed object.
 * Throws NOTEBOOK_INVALID_JSON, NOTEBOOK_UNSUPPORTED_FORMAT (not nbformat 4) or NOTEBOOK_MALFORMED.
 */
export function parseNotebook(notebook: string | Uint8Array | object): INotebookContent {
  let value: unknown = notebook;
  if (typeof notebook === 'string' || notebook instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof notebook === 'string' ? notebook : fromUtf8(notebook));
    } catch (e) {
      throw makeError(
        'NOTEBOOK_INVALID_JSON',
        `The notebook is not valid JSON (${(e as Error).message}). Open it in JupyterLab and save it again, or fix the file by hand.`
      );
    }
  }
  assert(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    'NOTEBOOK_MALFORMED',
    'The notebook must be a JSON object with "nbformat" and "cells".'
  );
  const nb = value as Partial<INotebookContent>;
  if (nb.nbformat !== 4 || typeof nb.nbformat_minor !== 'number' || nb.nbformat_minor < 0) {
    throw makeError(
      'NOTEBOOK_UNSUPPORTED_FORMAT',
      `Only nbformat 4 notebooks are supported (this one says nbformat ${String(nb.nbformat)}.${String(
        nb.nbformat_minor
      )}). Convert it with \`jupyter nbconvert --to notebook --nbformat 4\`.`,
      { nbformat: nb.nbformat, nbformatMinor: nb.nbformat_minor }
    );
  }
  assert(Array.isArray(nb.cells), 'NOTEBOOK_MALFORMED', 'The notebook has no "cells" list.');
  nb.cells.forEach((cell, index) => checkCell(cell, index));
  return nb as INotebookContent;
}

function checkCell(cell: unknown, index: number): void {
  const where = `Cell ${index + 1}`;
  assert(typeof cell === 'object' && cell !== null, 'NOTEBOOK_MALFORMED', `${where} is not an object.`, {
    cell: index
  });
  const c = cell as Partial<ICellContent>;
  assert(
    typeof c.cell_type === 'string' && CELL_TYPES.has(c.cell_type),
    'NOTEBOOK_MALFORMED',
    `${where} has cell_type ${JSON.stringify(c.cell_type)}; expected "code", "markdown" or "raw".`,
    { cell: index }
  );
  assert(
    typeof c.source === 'string' || (Array.isArray(c.source) && c.source.every(s => typeof s === 'string')),
    'NOTEBOOK_MALFORMED',
    `${where} has a source that is neither a string nor a list of strings.`,
    { cell: index }
  );
  const tags = c.metadata?.tags;
  assert(
    tags === undefined || (Array.isArray(tags) && tags.every(t => typeof t === 'string')),
    'NOTEBOOK_MALFORMED',
    `${where} has metadata.tags that is not a list of strings.`,
    { cell: index }
  );
}

/** A cell's source as one string with LF line endings (nbformat allows a list of lines and CRLF). */
export function cellSource(source: string | string[]): string {
  const text = Array.isArray(source) ? source.join('') : source;
  return text.replace(/\r\n?/g, '\n');
}

/** A cell's tags without duplicates, sorted: their order carries no meaning. */
export function cellTags(cell: Pick<ICellContent, 'metadata'>): string[] {
  return [...new Set(cell.metadata?.tags ?? [])].sort();
}

/** The output-free form of a notebook that its hash is taken over. */
export function canonicalNotebook(notebook: string | Uint8Array | object): ICanonicalNotebook {
  const nb = parseNotebook(notebook);
  return {
    format: NOTEBOOK_HASH_FORMAT,
    kernel: nb.metadata?.kernelspec?.name ?? null,
    language: nb.metadata?.language_info?.name ?? null,
    cells: nb.cells.map(cell => ({
      type: cell.cell_type,
      source: cellSource(cell.source),
      attachments: cell.attachments ?? {},
      tags: cellTags(cell)
    }))
  };
}

/** The notebook hash: SHA-256 of the RFC 8785 canonical JSON of `canonicalNotebook(notebook)`. */
export function notebookHash(notebook: string | Uint8Array | object): Hex32 {
  return canonicalHash(canonicalNotebook(notebook));
}

/**
 * The `codeHash` of a step receipt: SHA-256 of the cell's source as executed (LF line endings, UTF-8).
 * The agent sees code as the kernel receives it, so this hashes exactly that text, not the notebook cell.
 */
export function codeHash(source: string | string[]): Hex32 {
  return sha256(cellSource(source));
}
