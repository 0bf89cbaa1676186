import { createBundle } from '../core/bundle-writer';
import { readBundle } from '../core/bundle-reader';
import { PROVENANCE_FILE, unpackLaunchBundle } from './launch-bundle';
import type { IFetchedBundle } from './launch-worker-api';

const encoder = new TextEncoder();

/** The part of JupyterLab's contents API the unpacker uses, over a map (folders as entries of type directory). */
class MemoryContents {
  readonly entries = new Map<string, { type: string; content?: string; format?: string }>();
  async get(path: string, options: { content?: boolean } = {}) {
    const entry = this.entries.get(path);
    if (!entry) {
      throw Object.assign(new Error(`404 ${path}`), { response: { status: 404 } });
    }
    return { path, type: entry.type, content: options.content ? entry.content : null, format: entry.format };
  }
  async save(path: string, model: { type: string; content?: string; format?: string }) {
    const parent = path.split('/').slice(0, -1).join('/');
    if (parent && this.entries.get(parent)?.type !== 'directory') {
      throw new Error(`no folder ${parent}`);
    }
    if (this.entries.get(path)?.type === 'directory' && model.type === 'directory') {
      return { path };
    }
    this.entries.set(path, { ...model });
    return { path };
  }
  text(path: string): string {
    const e = this.entries.get(path)!;
    return e.format === 'base64' ? Buffer.from(e.content!, 'base64').toString('utf8') : e.content!;
  }
}

function fetched(tag: string): IFetchedBundle {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3' },
      language_info: { name: 'python' }
    },
    cells: [{ cell_type: 'code', id: 'a', metadata: {}, execution_count: null, outputs: [], source: tag }]
  };
  const read = readBundle(
    createBundle({
      notebookPath: 'study.ipynb',
      files: new Map([
        ['study.ipynb', encoder.encode(JSON.stringify(notebook))],
        ['data/deep/input.csv', encoder.encode(`x\n${tag}\n`)]
      ])
    }).bytes
  );
  return { bundleHash: read.bundleHash, manifest: read.manifest, files: Object.fromEntries(read.files) };
}

describe('unpacking a launch link bundle', () => {
  const agent = 'http://127.0.0.1:8601';

  it('writes the files under ain-launch/<hash8>/ with a provenance record', async () => {
    const contents = new MemoryContents();
    const b = fetched('one');
    const out = await unpackLaunchBundle(contents as any, b, agent);
    const folder = `ain-launch/${b.bundleHash.slice(2, 10)}`;
    expect(out).toEqual({ folder, notebookPath: `${folder}/study.ipynb`, reused: false });
    expect(contents.text(`${folder}/data/deep/input.csv`)).toBe('x\none\n');
    expect(JSON.parse(contents.text(`${folder}/study.ipynb`)).cells[0].source).toBe('one');
    expect(JSON.parse(contents.text(`${folder}/${PROVENANCE_FILE}`))).toMatchObject({
      bundleHash: b.bundleHash,
      agentUrl: agent,
      notebook: 'study.ipynb'
    });
  });

  it('reuses a folder that holds the same bundle, keeping the user’s edits', async () => {
    const contents = new MemoryContents();
    const b = fetched('two');
    const first = await unpackLaunchBundle(contents as any, b, agent);
    await contents.save(first.notebookPath, { type: 'file', format: 'text', content: 'edited by the user' });
    const again = await unpackLaunchBundle(contents as any, b, agent);
    expect(again).toEqual({ ...first, reused: true });
    expect(contents.text(first.notebookPath)).toBe('edited by the user');
  });

  it('never writes into a folder of that name that holds something else, or was left half-written', async () => {
    const contents = new MemoryContents();
    const b = fetched('three');
    const base = `ain-launch/${b.bundleHash.slice(2, 10)}`;
    await contents.save('ain-launch', { type: 'directory' });
    await contents.save(base, { type: 'directory' });
    await contents.save(`${base}/study.ipynb`, { type: 'file', format: 'text', content: 'mine' });
    await contents.save(`${base}-2`, { type: 'directory' });
    await contents.save(`${base}-2/${PROVENANCE_FILE}`, {
      type: 'file',
      format: 'text',
      content: JSON.stringify({ bundleHash: '0x' + '00'.repeat(32) })
    });
    const out = await unpackLaunchBundle(contents as any, b, agent);
    expect(out.folder).toBe(`${base}-3`);
    expect(contents.text(`${base}/study.ipynb`)).toBe('mine');
    expect(contents.entries.has(`${base}-2/study.ipynb`)).toBe(false);
  });
});
