import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBundle } from '../core/bundle-writer';
import { launchWorkerApi } from './launch-worker-api';

const encoder = new TextEncoder();

function bundle(tag: string) {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3' },
      language_info: { name: 'python' }
    },
    cells: [
      {
        cell_type: 'code',
        id: 'a',
        metadata: {},
        execution_count: null,
        outputs: [],
        source: `print(${JSON.stringify(tag)})`
      }
    ]
  };
  return createBundle({
    notebookPath: 'n.ipynb',
    files: new Map([
      ['n.ipynb', encoder.encode(JSON.stringify(notebook))],
      ['requirements.txt', encoder.encode('numpy==2.1.0\n')]
    ])
  });
}

describe('launch worker API', () => {
  const good = bundle('good');
  const other = bundle('other');
  let server: Server;
  let url: string;

  beforeAll(async () => {
    // Serves `good` at its public path, `other` in place of any other hash (a lying agent), 404 elsewhere.
    server = createServer((req, res) => {
      const m = /^\/bundles\/(0x[0-9a-f]{64})\/public$/.exec(req.url ?? '');
      if (!m) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'AGENT_NOT_FOUND', message: 'No route.' } }));
        return;
      }
      res.end(m[1] === good.bundleHash ? good.bytes : other.bytes);
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => server.close());

  it('returns the checked bundle: manifest and every file', async () => {
    const result = await launchWorkerApi.fetchBundle(url, good.bundleHash);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.bundle.bundleHash).toBe(good.bundleHash);
      expect(result.bundle.manifest.notebook).toBe('n.ipynb');
      expect(result.bundle.manifest.environment.kind).toBe('python');
      expect(Object.keys(result.bundle.files).sort()).toEqual(['n.ipynb', 'requirements.txt']);
      expect(new TextDecoder().decode(result.bundle.files['requirements.txt'])).toBe('numpy==2.1.0\n');
    }
  });

  it('answers failures as values with their code: another bundle, a refusal, a bad URL', async () => {
    const wrong = '0x' + '77'.repeat(32);
    expect(await launchWorkerApi.fetchBundle(url, wrong)).toMatchObject({
      ok: false,
      code: 'BUNDLE_HASH_MISMATCH'
    });
    expect(await launchWorkerApi.fetchBundle(`${url}/nowhere`, good.bundleHash)).toMatchObject({
      ok: false,
      code: 'PROVIDER_REFUSED',
      status: 404,
      message: expect.stringContaining('AGENT_NOT_FOUND: No route.')
    });
    expect(await launchWorkerApi.fetchBundle('file:///etc', good.bundleHash)).toMatchObject({
      ok: false,
      code: 'LAUNCH_LINK_INVALID'
    });
  });
});
