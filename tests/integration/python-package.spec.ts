// `pip install .` in a fresh virtual environment gives JupyterLab an enabled jupyterlab-ain extension: the pip
// package ships the prebuilt extension under share/jupyter/labextensions (needs a prior `npm run build`).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const version = require('../../package.json').version;

describe('the pip package', () => {
  let venv: string;
  beforeAll(() => {
    venv = mkdtempSync(join(tmpdir(), 'ain-venv-'));
    execFileSync('python3', ['-m', 'venv', venv]);
  });
  afterAll(() => rmSync(venv, { recursive: true, force: true }));

  it('installs with pip into a fresh venv and is listed as enabled and OK', () => {
    const pip = join(venv, 'bin', 'pip');
    execFileSync(pip, ['install', '--quiet', '--disable-pip-version-check', 'jupyterlab==4.6.6', root], {
      stdio: 'pipe',
      timeout: 300000
    });
    // jupyter prints parts of the listing on stderr: read both streams.
    const listing = spawnSync(join(venv, 'bin', 'jupyter'), ['labextension', 'list'], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    const all = listing.stdout + listing.stderr;
    // eslint-disable-next-line no-control-regex -- strips the ANSI colours jupyter prints
    expect(all.replace(/\u001b\[[0-9;]*m/g, '')).toContain(
      `jupyterlab-ain v${version} enabled OK (python, jupyterlab_ain)`
    );
  }, 300000);
});
