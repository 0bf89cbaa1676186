/**
 * The local executor of `ain verify` on the real thing: a uv environment from the shared cache, a jupyter server
 * started by the agent's local backend, a kernel reached with @jupyterlab/services in Node. The kernel sees the
 * files a bundle of the notebook holds (the notebook, its environment files, the --data files) and nothing else of
 * the notebook's folder; files written by the verifier land in the kernel's folder; dispose leaves no process and
 * no temporary folder behind.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startLocalExecutor } from '../../src/cli/verify-executor-local';
import { ENV_CACHE, leftoversAfter } from './agent-kernel-fixture';

jest.setTimeout(300_000);

describe('startLocalExecutor (real uv environment, jupyter server, ipykernel)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ain-verify-local-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs cells in a kernel that sees exactly the bundle's files, and cleans up", async () => {
    const folder = path.join(dir, 'project');
    mkdirSync(path.join(folder, 'data'), { recursive: true });
    writeFileSync(
      path.join(folder, 'nb.ipynb'),
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] })
    );
    writeFileSync(path.join(folder, 'data', 'values.csv'), 'a,b\n1,2\n');
    writeFileSync(path.join(folder, 'secret-notes.txt'), 'not part of the bundle');
    const dataDir = path.join(dir, 'verifier');
    mkdirSync(ENV_CACHE, { recursive: true });
    mkdirSync(dataDir);
    symlinkSync(ENV_CACHE, path.join(dataDir, 'environments'));
    const lines: string[] = [];

    const executor = await startLocalExecutor({
      notebook: path.join(folder, 'nb.ipynb'),
      data: ['data'],
      dataDir,
      onProgress: l => lines.push(l)
    });
    try {
      expect(executor.label).toBe('local kernel (python3)');
      expect(lines.some(l => /environment/.test(l))).toBe(true);
      expect(lines.some(l => /kernel ready in/.test(l))).toBe(true);
      const listing = await executor.execute(
        "import os\nsorted(os.path.join(d, f) for d, _, fs in os.walk('.') for f in fs)"
      );
      expect(listing.status).toBe('ok');
      expect(listing.outputs).toEqual([
        expect.objectContaining({
          output_type: 'execute_result',
          data: { 'text/plain': "['./data/values.csv', './nb.ipynb']" }
        })
      ]);
      await executor.writeFile('outputs/model.bin', new Uint8Array([1, 2, 3]));
      const read = await executor.execute("print(list(open('outputs/model.bin', 'rb').read()))");
      expect(read.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: '[1, 2, 3]\n' }]);
      await expect(executor.writeFile('../escape.txt', new Uint8Array([1]))).rejects.toThrow(/leave/);
      const failing = await executor.execute('1/0');
      expect(failing.status).toBe('error');
      await executor.restart();
      const fresh = await executor.execute("'os' in dir()");
      expect(fresh.outputs[0]).toMatchObject({ data: { 'text/plain': 'False' } });
    } finally {
      await executor.dispose();
    }
    expect(existsSync(executor.workDir)).toBe(false);
    expect(await leftoversAfter(executor.workDir)).toEqual([]);
  });
});
