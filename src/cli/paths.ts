/**
 * Where things live for the CLI: the package root (to find examples/ and the development .venv) and the
 * development data folder. Node-only.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The jupyterlab-ain package root (the folder with package.json), from lib-node/cli/. */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..');

/** The development data folder: chain state, agent stores, the example workspace. */
export function devDataDir(): string {
  return process.env.AIN_DEV_DIR ? resolve(process.env.AIN_DEV_DIR) : join(PACKAGE_ROOT, '.ain', 'dev');
}

/**
 * The `jupyter` executable: $AIN_JUPYTER, else the README set-up's .venv, else whatever is on PATH.
 */
export function jupyterExecutable(): string {
  if (process.env.AIN_JUPYTER) {
    return process.env.AIN_JUPYTER;
  }
  const venv = join(PACKAGE_ROOT, '.venv', 'bin', 'jupyter');
  return existsSync(venv) ? venv : 'jupyter';
}
