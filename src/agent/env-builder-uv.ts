/**
 * IEnvironmentBuilder with uv: one venv per environment hash under a cache folder, built from PyPI only.
 *
 * - A build goes into a temporary folder and is renamed into place only when complete (with a marker file), so a
 *   build that crashed half-way is never reused; concurrent builds of one hash run once (a promise per hash in this
 *   process, a lock file with the builder's pid across processes).
 * - uv's own cache lives in the agent's data folder, so rebuilding a known set of packages downloads nothing.
 * - `--link-mode copy`: hardlinks into uv's cache would let one run's notebook, which may write into its own
 *   site-packages, change the files of every other environment built from that cache.
 * - ipykernel is always installed, so a kernel can start; `uv venv --relocatable` keeps console scripts working
 *   after the rename.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { makeError } from '../core/errors.js';
import type { EnvironmentReport } from '../core/environment.js';
import type { IBuiltEnvironment, IEnvironmentBuilder, IRunEvent } from './tokens.js';

/** Options of UvEnvironmentBuilder. */
export interface IUvBuilderOptions {
  /** Folder of the built venvs (one per environment hash). */
  cacheDir: string;
  /** uv's package cache (default `<cacheDir>/uv-cache`). */
  uvCacheDir?: string;
  /** The uv executable (default `uv` next to the agent's Python, else on PATH). */
  uv?: string;
  /** Python for environments that name none (default `python3`). */
  defaultPython?: string;
  /** Extra packages in every environment (default `ipykernel`). */
  basePackages?: string[];
  /** Lines of build log kept for error messages (default 40). */
  logTail?: number;
  /** Give up on a build after this many ms (default 15 minutes). */
  timeoutMs?: number;
}

const MARKER = '.ain-environment.json';
type OnEvent = (type: IRunEvent['type'], message: string) => void;

/** Builds and caches run environments with uv. */
export class UvEnvironmentBuilder implements IEnvironmentBuilder {
  private readonly building = new Map<string, Promise<IBuiltEnvironment>>();

  constructor(private readonly options: IUvBuilderOptions) {}

  /** The folder an environment hash is (or will be) built in. */
  prefixOf(environmentHash: string): string {
    return join(this.options.cacheDir, environmentHash.replace(/^0x/, '').slice(0, 32));
  }

  async build(
    environment: EnvironmentReport,
    _files: ReadonlyMap<string, Uint8Array>,
    onEvent: OnEvent
  ): Promise<IBuiltEnvironment> {
    const condaPackages = Private.condaPackages(environment);
    if (environment.refused.length > 0 || environment.kind === 'unsupported' || condaPackages) {
      const reasons = environment.refused.map(
        r => `${r.file}${r.line ? `:${r.line}` : ''}: ${r.reason} (${r.advice})`
      );
      if (condaPackages) {
        reasons.push(condaPackages);
      }
      const message =
        `The environment asks for what this provider cannot install from PyPI: ${reasons.join('; ') || environment.kind}. ` +
        'Change the environment files as advised and submit the run again.';
      onEvent('environment-failed', message);
      throw makeError('AGENT_ENV_REFUSED', message, {
        refused: [...environment.refused.map(r => r.rule), ...(condaPackages ? ['conda-package'] : [])]
      });
    }
    const key = environment.environmentHash;
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.buildOnce(environment, onEvent).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    } else {
      onEvent('environment-building', 'waiting for a build of the same environment already under way');
    }
    return pending;
  }

  private async buildOnce(environment: EnvironmentReport, onEvent: OnEvent): Promise<IBuiltEnvironment> {
    const prefix = this.prefixOf(environment.environmentHash);
    const result = (cached: boolean): IBuiltEnvironment => ({
      environmentHash: environment.environmentHash,
      prefix,
      python: join(prefix, 'bin', 'python'),
      cached
    });
    if (existsSync(join(prefix, MARKER))) {
      onEvent(
        'environment-cached',
        `environment ${environment.environmentHash.slice(0, 10)} reused from the cache`
      );
      return result(true);
    }
    await fs.mkdir(this.options.cacheDir, { recursive: true });
    const lock = `${prefix}.lock`;
    const held = await Private.acquireLock(lock, () => existsSync(join(prefix, MARKER)));
    try {
      if (existsSync(join(prefix, MARKER))) {
        onEvent(
          'environment-cached',
          `environment ${environment.environmentHash.slice(0, 10)} built by another agent`
        );
        return result(true);
      }
      const started = Date.now();
      await this.buildInto(prefix, environment, onEvent);
      onEvent('environment-ready', `environment built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return result(false);
    } finally {
      if (held) {
        await fs.rm(lock, { force: true });
      }
    }
  }

  private async buildInto(prefix: string, environment: EnvironmentReport, onEvent: OnEvent): Promise<void> {
    const tmp = `${prefix}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const tail: string[] = [];
    const log = (line: string) => {
      tail.push(line);
      if (tail.length > (this.options.logTail ?? 40)) {
        tail.shift();
      }
      onEvent('environment-log', line);
    };
    const python = environment.install.python ?? this.options.defaultPython ?? 'python3';
    const packages = [
      ...(this.options.basePackages ?? ['ipykernel']),
      ...environment.install.requirements.map(r => r.requirement)
    ];
    onEvent(
      'environment-building',
      `building a Python ${environment.install.python ?? '3'} environment: ${packages.join(', ')}`
    );
    try {
      await fs.rm(prefix, { recursive: true, force: true });
      await this.uv(['venv', '--relocatable', '--python', python, '--seed', tmp], log);
      const requirements = join(tmp, 'ain-requirements.txt');
      await fs.writeFile(requirements, packages.join('\n') + '\n');
      await this.uv(
        ['pip', 'install', '--python', join(tmp, 'bin', 'python'), '--link-mode', 'copy', '-r', requirements],
        log
      );
      await fs.writeFile(
        join(tmp, MARKER),
        JSON.stringify({
          environmentHash: environment.environmentHash,
          builtAt: new Date().toISOString(),
          packages
        })
      );
      await fs.rename(tmp, prefix);
    } catch (e) {
      await fs.rm(tmp, { recursive: true, force: true });
      const message =
        `Building the environment failed: ${(e as Error).message}. Last lines of the build log:\n${tail.join('\n')}\n` +
        'Check the requirements (names, versions, and that they have wheels or sdists on PyPI for this Python).';
      onEvent('environment-failed', message);
      throw makeError('AGENT_ENV_BUILD_FAILED', message, { logTail: tail.slice() });
    }
  }

  /** Runs uv with its cache in the agent's data folder and no Python downloads (only PyPI is reachable). */
  private uv(args: string[], log: (line: string) => void): Promise<void> {
    const env = {
      ...process.env,
      UV_CACHE_DIR: this.options.uvCacheDir ?? join(this.options.cacheDir, 'uv-cache'),
      UV_PYTHON_DOWNLOADS: 'never',
      UV_NO_PROGRESS: '1',
      NO_COLOR: '1'
    };
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.uv ?? 'uv', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), this.options.timeoutMs ?? 15 * 60_000);
      let partial = '';
      const onData = (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split(/\r?\n/);
        partial = lines.pop() ?? '';
        lines.filter(l => l.trim() !== '').forEach(log);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', e => {
        clearTimeout(timer);
        reject(new Error(`cannot run uv (${e.message}); install uv or set the builder's uv path`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (partial.trim()) {
          log(partial);
        }
        if (code === 0) {
          resolve();
        } else {
          reject(
            new Error(
              `uv ${args[0]} ${args[1] === 'install' ? 'pip install ' : ''}exited with ${signal ?? code}`
            )
          );
        }
      });
    });
  }
}

namespace Private {
  /**
   * Why the conda dependencies of `environment` cannot be honoured, or null. uv installs from PyPI only: a conda
   * package (r-base, gdal, nodejs...) would otherwise be dropped without a word and the notebook fail later. Only
   * `python` (which picks the interpreter) and `pip` (which uv replaces) are honoured.
   */
  export function condaPackages(environment: EnvironmentReport): string | null {
    const conda = environment.install.conda;
    const others = (conda?.dependencies ?? []).filter(d => {
      const name = /^(?:[^:\s]+::)?\s*([A-Za-z0-9_.-]+)/.exec(d)?.[1]?.toLowerCase();
      return name !== 'python' && name !== 'pip';
    });
    if (others.length === 0) {
      return null;
    }
    const file = environment.files.find(f => /environment\.ya?ml$/.test(f)) ?? 'environment.yml';
    return (
      `${file}: the conda packages ${others.join(', ')} come from conda channels, and this provider installs ` +
      'only from PyPI (list PyPI packages under "- pip:" in the dependencies, keep only python= and pip as conda ' +
      'dependencies, or run this notebook elsewhere)'
    );
  }

  /**
   * Takes a lock file holding our pid (true), or waits while a live process holds it until `done()` (false); a
   * dead builder's lock is taken over.
   */
  export async function acquireLock(path: string, done: () => boolean): Promise<boolean> {
    for (;;) {
      try {
        await fs.writeFile(path, String(process.pid), { flag: 'wx' });
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw e;
        }
      }
      const holder = Number(await fs.readFile(path, 'utf8').catch(() => '0'));
      if (!holder || !alive(holder) || holder === process.pid) {
        await fs.rm(path, { force: true });
        continue;
      }
      if (done()) {
        return false;
      }
      await new Promise(r => setTimeout(r, 250));
    }
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
