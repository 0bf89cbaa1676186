/**
 * `ain dev`: the whole product on the embedded default, on loopback. For now: JupyterLab with the extension and
 * the example notebooks (copied into a workspace so that running them never edits the repository's copies).
 * The chain and the providers join here as their issues land.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ICommand } from '../main.js';
import { PACKAGE_ROOT, devDataDir, jupyterExecutable } from '../paths.js';

const USAGE = `Usage: ain dev [--port 8888] [--no-browser] [--reset-examples] [-- <extra jupyter lab arguments>]

Starts JupyterLab with the jupyterlab-ain extension on 127.0.0.1, opened on the example notebooks.
  --port N            JupyterLab's port (default 8888)
  --no-browser        do not open a browser
  --reset-examples    copy the example notebooks again, replacing the workspace copies
Environment: AIN_DEV_DIR (data folder, default .ain/dev), AIN_JUPYTER (jupyter executable).`;

export const command: ICommand = {
  summary: 'start the product on the embedded default (JupyterLab with the extension, examples)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '8888' },
        'no-browser': { type: 'boolean', default: false },
        'reset-examples': { type: 'boolean', default: false }
      },
      allowPositionals: true
    });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      console.error(`ain dev: --port must be a TCP port number (1-65535), not "${values.port}".`);
      return 2;
    }
    const workspace = join(devDataDir(), 'notebooks');
    if (values['reset-examples'] || !existsSync(workspace)) {
      mkdirSync(workspace, { recursive: true });
      cpSync(join(PACKAGE_ROOT, 'examples'), workspace, { recursive: true });
      console.log(`ain dev: example notebooks copied to ${workspace}`);
    }
    const args = [
      'lab',
      '--ip=127.0.0.1',
      `--port=${port}`,
      '--ServerApp.port_retries=0',
      `--ServerApp.root_dir=${workspace}`,
      ...(values['no-browser'] ? ['--no-browser'] : []),
      // jupyter refuses to run as root without it; development machines and containers often are root.
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
      ...positionals
    ];
    console.log(`ain dev: starting JupyterLab on http://127.0.0.1:${port}/lab (Ctrl+C stops everything)`);
    const lab = spawn(jupyterExecutable(), args, { stdio: 'inherit' });
    const stop = () => lab.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return new Promise<number>(done => {
      lab.once('error', e => {
        console.error(
          `ain dev: cannot start JupyterLab (${e.message}). Run the README's set-up command, or set AIN_JUPYTER to a jupyter executable.`
        );
        done(2);
      });
      lab.once('exit', code => done(code ?? 0));
    });
  }
};
