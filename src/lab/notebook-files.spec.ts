import { notebookHash } from '../core/notebook.js';
import { withoutOutputs } from './notebook-files.js';

describe("a verifier's bundle", () => {
  it('carries the code without outputs, execution counts or metadata.ain, under the same notebook hash', () => {
    const notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3' }, language_info: { name: 'python' }, ain: { version: 1 } },
      cells: [
        {
          cell_type: 'code',
          id: 'a',
          metadata: { tags: ['ain:rtol=1e-3'] },
          execution_count: 4,
          outputs: [{ output_type: 'stream', name: 'stdout', text: '42\n' }],
          source: 'print(42)'
        },
        { cell_type: 'markdown', id: 'b', metadata: {}, source: '# title' }
      ]
    };
    const stripped = withoutOutputs(notebook) as typeof notebook;
    expect(stripped.metadata).toEqual({ kernelspec: { name: 'python3' }, language_info: { name: 'python' } });
    expect(stripped.cells[0]).toMatchObject({ outputs: [], execution_count: null, source: 'print(42)' });
    expect(stripped.cells[1]).toEqual(notebook.cells[1]);
    expect(notebookHash(stripped)).toBe(notebookHash(notebook));
    expect(notebook.cells[0].outputs).toHaveLength(1);
  });
});
