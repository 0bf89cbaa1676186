/**
 * A local kernel to re-execute a notebook's cells in (ICellExecutor for `ain verify --reproduce local`, the
 * examples and bench/verify): the files a bundle of the notebook would hold are copied into a temporary work
 * folder, the environment is built with the agent's uv builder (cached under the data folder, keyed by the
 * environment hash, so a second verification builds nothing), a jupyter server is started with the agent's local
 * backend, and a kernel is reached with @jupyterlab/services in Node, wrapped by the core KernelExecutor.
 *
 * The verifier's kernel then sees what the provider's saw: the same environment files and data files, the same
 * relative paths, nothing else of this machine's folder.
 */
import { mkdtempSync, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { KernelManager } from '@jupyterlab/services';
import { readBundle } from '../core/bundle-reader.js';
import { createBundle } from '../core/bundle-writer.js';
import { detectEnvironment, isEnvironmentPath } from '../core/environment.js';
import { makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import { KernelExecutor } from '../core/kernel-executor.js';
import type { ICellExecutor } from '../core/verification.js';
import { LocalKernelBackend } from '../agent/backend-local.js';
import { UvEnvironmentBuilder } from '../agent/env-builder-uv.js';
import { unpackBundle } from '../agent/run-admission.js';
import type { IBuiltEnvironment, IKernelServer } from '../agent/tokens.js';
import { collectBundleFiles } from './bundle-files.js';
import { nodeServerSettings } from './jupyter-settings.js';

/** Where the cells' files come from, and where environments are cached. */
export interface ILocalExecutorOptions {
  /** A notebook file: its bundle's files (the notebook, its folder's environment files, `data`) are used. */
  notebook?: string;
  /** Or a folder: its environment files and `data` (no notebook; cells arrive as code). */
  notebookDir?: string;
  /** Data files or folders relative to the notebook's folder, as `ain pack --data` takes them. */
  data?: string[];
  /** Or the files themselves by POSIX path (e.g. a bundle's), with `notebookPath` naming the notebook among them. */
  files?: ReadonlyMap<string, Uint8Array>;
  notebookPath?: string;
  /** The verifier's data folder: environments are cached in `<dataDir>/environments`. */
  dataDir: string;
  /** Progress lines (environment build, server and kernel start). */
  onProgress?: (line: string) => void;
}

/** A local executor, with what it started (for reports and tests). */
export interface ILocalExecutor extends ICellExecutor {
  readonly workDir: string;
  readonly environment: IBuiltEnvironment;
}

/** Starts the environment, a jupyter server and a kernel for a notebook's files. */
export async function startLocalExecutor(options: ILocalExecutorOptions): Promise<ILocalExecutor> {
  const progress = options.onProgress ?? (() => undefined);
  const { files, notebookPath } = Private.selectFiles(options);
  const root = mkdtempSync(join(tmpdir(), 'ain-verify-'));
  const workDir = join(root, 'work');
  let server: IKernelServer | undefined;
  let manager: KernelManager | undefined;
  try {
    await unpackBundle(files, workDir);
    const environment = await Private.buildEnvironment(files, notebookPath, options.dataDir, progress);
    progress('starting a jupyter server for the verification kernel');
    const backend = new LocalKernelBackend({ stateDir: join(root, 'jupyter') });
    const runId = ('0x' + randomBytes(32).toString('hex')) as Hex32;
    // Kernels start in the server's root: the notebook's own folder inside the bundle, as on the provider.
    const kernelDir = join(workDir, dirname(notebookPath));
    server = await backend.start({ runId, workDir: kernelDir, environment });
    const started = Date.now();
    manager = new KernelManager({ serverSettings: nodeServerSettings(server.baseUrl, server.token) });
    const kernel = await manager.startNew({ name: 'python3' });
    // kernel.info resolves once the kernel answered kernel_info: requests before that are dropped (FIELD-NOTES).
    await kernel.info;
    progress(`kernel ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const running = { manager, server };
    let disposed = false;
    const executor = new KernelExecutor({
      kernel,
      label: 'local kernel (python3)',
      writeFile: (path, bytes) => Private.writeInside(kernelDir, path, bytes),
      async dispose() {
        if (disposed) {
          return;
        }
        disposed = true;
        await kernel.shutdown().catch(() => undefined);
        await Private.stop(running.manager, running.server, root);
      }
    });
    return Object.assign(executor, { workDir: kernelDir, environment });
  } catch (e) {
    await Private.stop(manager, server, root);
    throw e;
  }
}

namespace Private {
  /** The files and the notebook's path among them, checked by a bundle round trip when there is a notebook. */
  export function selectFiles(o: ILocalExecutorOptions): {
    files: ReadonlyMap<string, Uint8Array>;
    notebookPath: string;
  } {
    if (o.files) {
      return { files: o.files, notebookPath: o.notebookPath ?? '' };
    }
    if (o.notebook) {
      const file = resolve(o.notebook);
      const files = collectBundleFiles(dirname(file), file, o.data ?? []);
      // Through the bundle writer and reader: the same limits and path rules a provider applies.
      const bundle = readBundle(createBundle({ notebookPath: basename(file), files }).bytes);
      return { files: bundle.files, notebookPath: basename(file) };
    }
    if (o.notebookDir) {
      return { files: collectBundleFiles(resolve(o.notebookDir), null, o.data ?? []), notebookPath: '' };
    }
    throw makeError(
      'AGENT_CONFIG_INVALID',
      'A local executor needs a notebook file, a notebook folder or the files of a bundle.'
    );
  }

  export async function buildEnvironment(
    files: ReadonlyMap<string, Uint8Array>,
    notebookPath: string,
    dataDir: string,
    progress: (line: string) => void
  ): Promise<IBuiltEnvironment> {
    const folder = notebookPath.includes('/') ? notebookPath.slice(0, notebookPath.lastIndexOf('/') + 1) : '';
    const envFiles = new Map<string, Uint8Array>();
    for (const [path, bytes] of files) {
      if (path.startsWith(folder) && isEnvironmentPath(path.slice(folder.length))) {
        envFiles.set(path.slice(folder.length), bytes);
      }
    }
    const report = detectEnvironment(envFiles);
    const builder = new UvEnvironmentBuilder({ cacheDir: join(resolve(dataDir), 'environments') });
    progress(`environment ${report.kind} ${report.environmentHash.slice(0, 10)}: preparing`);
    const started = Date.now();
    const built = await builder.build(report, envFiles, (_type, message) =>
      progress(`environment: ${message}`)
    );
    if (!built.cached) {
      progress(`environment built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    return built;
  }

  /** Writes `bytes` at the relative POSIX `path` under `root`, refusing paths that leave it. */
  export async function writeInside(root: string, path: string, bytes: Uint8Array): Promise<void> {
    const target = resolve(root, path);
    if (path.startsWith('/') || !target.startsWith(resolve(root) + sep)) {
      throw makeError(
        'BUNDLE_PATH_TRAVERSAL',
        `The file ${path} would leave the kernel's folder; refusing it.`,
        {
          path
        }
      );
    }
    await fs.mkdir(dirname(target), { recursive: true });
    await fs.writeFile(target, bytes);
  }

  export async function stop(
    manager: KernelManager | undefined,
    server: IKernelServer | undefined,
    root: string
  ): Promise<void> {
    manager?.dispose();
    // The server's process group goes down with its kernels (SIGTERM, then SIGKILL after 5 s).
    await server?.stop().catch(() => undefined);
    await fs.rm(root, { recursive: true, force: true }).catch(() => undefined);
  }
}
