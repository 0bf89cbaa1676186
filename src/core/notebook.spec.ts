import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAinError } from './errors';
import { canonicalNotebook, codeHash, notebookHash, parseNotebook } from './notebook';
import { canonicalJson } from './canonical-json';

const vectors = JSON.parse(readFileSync(join(__dirname, '../../tests/vectors/notebooks.json'), 'utf8'));

function base(): any {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      language_info: { name: 'python', version: '3.11.7' }
    },
    cells: [
      { cell_type: 'markdown', id: 'a', metadata: {}, source: '# Title' },
      {
        cell_type: 'code',
        id: 'b',
        metadata: { tags: ['keep'] },
        execution_count: null,
        outputs: [],
        source: 'x = 1\nprint(x)'
      },
      { cell_type: 'raw', id: 'c', metadata: {}, source: 'raw text' }
    ]
  };
}

describe('notebook hash', () => {
  it.each(vectors.notebooks.map((v: any) => [v.name, v]))('matches the vector "%s"', (_n, v: any) => {
    expect(canonicalJson(canonicalNotebook(v.notebook))).toBe(v.canonical);
    const independent = '0x' + createHash('sha256').update(v.canonical, 'utf8').digest('hex');
    expect(notebookHash(v.notebook)).toBe(independent);
    expect(v.hash).toBe(independent);
  });

  it('is the same for text, bytes and a parsed object', () => {
    const text = JSON.stringify(base());
    expect(notebookHash(text)).toBe(notebookHash(base()));
    expect(notebookHash(new TextEncoder().encode(text))).toBe(notebookHash(base()));
  });

  it('does not change when only outputs, counts, ids or other metadata change', () => {
    const before = notebookHash(base());
    const nb = base();
    nb.cells[1].outputs = [{ output_type: 'stream', name: 'stdout', text: '1\n' }];
    nb.cells[1].execution_count = 7;
    nb.cells[1].id = 'other-id';
    nb.cells[1].metadata.collapsed = true;
    nb.cells[1].metadata.tags = ['keep', 'keep'];
    nb.metadata.language_info.version = '3.12.0';
    nb.metadata.widgets = { state: {} };
    nb.nbformat_minor = 4;
    expect(notebookHash(nb)).toBe(before);
  });

  it('accepts list sources and CRLF line endings as the same code', () => {
    const nb = base();
    nb.cells[1].source = ['x = 1\r\n', 'print(x)'];
    expect(notebookHash(nb)).toBe(notebookHash(base()));
    expect(codeHash(['x = 1\r\n', 'print(x)'])).toBe(codeHash('x = 1\nprint(x)'));
  });

  it('reads nbformat 4.0 to 4.5 (cells without ids)', () => {
    for (const minor of [0, 1, 2, 3, 4, 5]) {
      const nb = base();
      nb.nbformat_minor = minor;
      nb.cells.forEach((c: any) => delete c.id);
      expect(notebookHash(nb)).toBe(notebookHash(base()));
    }
  });

  const changes: [string, (nb: any) => void][] = [
    ['code', nb => (nb.cells[1].source = 'x = 2\nprint(x)')],
    ['cell order', nb => nb.cells.reverse()],
    ['cell type', nb => (nb.cells[2].cell_type = 'markdown')],
    ['tags', nb => (nb.cells[1].metadata.tags = ['keep', 'ain:rtol=1e-3'])],
    ['attachments', nb => (nb.cells[0].attachments = { 'a.png': { 'image/png': 'iVBORw0KGgo=' } })],
    ['kernel', nb => (nb.metadata.kernelspec.name = 'ir')],
    ['language', nb => (nb.metadata.language_info.name = 'R')],
    ['trailing newline', nb => (nb.cells[1].source += '\n')],
    ['cell count', nb => nb.cells.push({ cell_type: 'code', metadata: {}, outputs: [], source: '' })]
  ];
  it.each(changes)('changes with a different %s', (_what, edit) => {
    const nb = base();
    edit(nb);
    expect(notebookHash(nb)).not.toBe(notebookHash(base()));
  });

  it('refuses what it cannot read, naming the problem', () => {
    const cases: [unknown, string, RegExp][] = [
      ['{"cells": [', 'NOTEBOOK_INVALID_JSON', /not valid JSON/],
      [{ nbformat: 3, nbformat_minor: 0, worksheets: [] }, 'NOTEBOOK_UNSUPPORTED_FORMAT', /nbconvert/],
      [{ nbformat: 4, nbformat_minor: 5 }, 'NOTEBOOK_MALFORMED', /cells/],
      [
        { ...base(), cells: [{ cell_type: 'heading', source: '' }] },
        'NOTEBOOK_MALFORMED',
        /Cell 1.*cell_type/
      ],
      [{ ...base(), cells: [{ cell_type: 'code', source: 42 }] }, 'NOTEBOOK_MALFORMED', /source/],
      [
        { ...base(), cells: [{ cell_type: 'code', source: '', metadata: { tags: 'x' } }] },
        'NOTEBOOK_MALFORMED',
        /tags/
      ],
      [[], 'NOTEBOOK_MALFORMED', /JSON object/]
    ];
    for (const [input, code, message] of cases) {
      try {
        parseNotebook(input as object);
        throw new Error(`expected ${code}`);
      } catch (e) {
        expect(isAinError(e, code as any)).toBe(true);
        expect((e as Error).message).toMatch(message);
      }
    }
  });
});
