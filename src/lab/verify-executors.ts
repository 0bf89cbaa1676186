/**
 * Where a verifier re-executes a notebook from JupyterLab: a fresh kernel of the local Jupyter server, or a kernel
 * of another provider's run (provisioned for the verifier, not bound to the notebook panel). Both become a core
 * KernelExecutor; both start from the same files the provider got (the notebook's bundle files) in a folder of
 * their own, so the verifier's kernel sees what the provider's saw and writes nothing into the user's folders.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Contents, Drive, Kernel, KernelConnection, SessionAPI } from '@jupyterlab/services';
import type { Hex32 } from '../core/hash.js';
import { KernelExecutor } from '../core/kernel-executor.js';
import type { ICellExecutor, IExecuted } from '../core/verification.js';
import { labError } from './errors.js';
import { providerLabel } from './kernel-router.js';
import { notebookFiles, splitPath, withoutOutputs } from './notebook-files.js';
import type { IAinProviderListing, IAinRuns } from './tokens.js';

/** Where to re-execute, as chosen in the dialog. */
export type ExecutorChoice =
  | { kind: 'local'; kernelName: string }
  | { kind: 'provider'; provider: IAinProviderListing; budget: string };

/** Progress lines while the executor starts. */
export type StartProgress = (message: string) => void;

/**
 * A fresh kernel of the local Jupyter server in a new folder `ain-verify-<id>/` (a visible name: the server's
 * contents API refuses hidden paths by default) holding the notebook's bundle files. The kernel starts through a
 * session on a path in that folder, which makes the folder its working directory; the session, the kernel and the
 * folder are removed on dispose.
 */
export async function localExecutor(
  app: JupyterFrontEnd,
  options: { path: string; notebook: object; kernelName: string; progress: StartProgress }
): Promise<ICellExecutor> {
  const { contents, sessions, kernelspecs } = app.serviceManager;
  await kernelspecs.ready;
  const spec = kernelspecs.specs?.kernelspecs[options.kernelName];
  // The extension's own specs (AI Network providers) are served by the same manager: only a kernel the local
  // server knows will do, so that the verifier's kernel really is local.
  if (!spec || (spec.metadata as { ain?: unknown } | undefined)?.ain !== undefined) {
    throw labError(
      'LAB_VERIFY_FAILED',
      `"${options.kernelName}" is not a kernel of the local Jupyter server; pick one of its kernels.`
    );
  }
  const dir = `ain-verify-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const { name } = splitPath(options.path);
  options.progress(`Preparing ${dir}/ with the notebook's files…`);
  await contents.save(dir, { type: 'directory' });
  const files = await notebookFiles(contents, options.path, withoutOutputs(options.notebook));
  const write = (path: string, bytes: Uint8Array) => writeFile(contents, `${dir}/${path}`, bytes);
  await Promise.all([...files].map(([path, bytes]) => write(path, bytes)));
  options.progress(`Starting a local ${spec.display_name} kernel…`);
  const session = await sessions.startNew({
    path: `${dir}/${name}`,
    name,
    type: 'notebook',
    kernel: { name: options.kernelName }
  });
  const kernel = session.kernel;
  if (!kernel) {
    await session.shutdown().catch(() => undefined);
    throw labError('LAB_VERIFY_FAILED', 'The local Jupyter server started no kernel for the verification.');
  }
  await kernel.info;
  return new KernelExecutor({
    kernel,
    label: `local kernel (${spec.display_name})`,
    writeFile: write,
    dispose: async () => {
      await session.shutdown().catch(() => undefined);
      session.dispose();
      await removeTree(contents, dir).catch(e =>
        console.warn(`jupyterlab-ain: could not remove the verification folder ${dir}:`, e)
      );
    }
  });
}

/**
 * A kernel of another provider: a verifier's run of the notebook (opened and paid with the wallet, as any run),
 * reached with its own session and kernel connection; the run is stopped on dispose.
 */
export async function providerExecutor(
  runs: IAinRuns,
  options: {
    path: string;
    provider: IAinProviderListing;
    budget: string;
    reproduces: Hex32;
    progress: StartProgress;
  }
): Promise<ICellExecutor> {
  const label = providerLabel(options.provider);
  options.progress(`Provisioning a run on ${label}…`);
  const server = await runs.openVerifierServer({
    path: options.path,
    provider: options.provider,
    budget: options.budget,
    reproduces: options.reproduces
  });
  const settings = server.settings;
  const sessionsApi = new SessionAPI.SessionAPIClient({ serverSettings: settings });
  let model;
  try {
    model = await sessionsApi.startNew({
      path: server.remotePath,
      name: server.remotePath,
      type: 'notebook',
      kernel: { name: 'python3' }
    });
  } catch (e) {
    await runs.stop(server.runId).catch(() => undefined);
    throw e;
  }
  const kernel: Kernel.IKernelConnection = new KernelConnection({
    model: model.kernel!,
    serverSettings: settings,
    handleComms: false
  });
  await kernel.info;
  const drive = new Drive({ serverSettings: settings });
  return new KernelExecutor({
    kernel,
    label: `provider ${label} (${options.provider.address.slice(0, 8)}…, run ${server.runId.slice(0, 10)}…)`,
    writeFile: (path, bytes) => writeFile(drive, path, bytes),
    dispose: async () => {
      await kernel.shutdown().catch(() => undefined);
      kernel.dispose();
      await sessionsApi.shutdown(model.id).catch(() => undefined);
      await runs.stop(server.runId).catch(() => undefined);
      drive.dispose();
    }
  });
}

/** Writes bytes through a contents API, creating the parent folders first. */
export async function writeFile(
  contents: Pick<Contents.IManager, 'save' | 'get'>,
  path: string,
  bytes: Uint8Array
): Promise<void> {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const exists = await contents.get(dir, { content: false }).then(
      () => true,
      () => false
    );
    if (!exists) {
      await contents.save(dir, { type: 'directory' });
    }
  }
  await contents.save(path, { type: 'file', format: 'base64', content: base64(bytes) });
}

/** Removes a folder and what is in it through the contents API. */
async function removeTree(contents: Contents.IManager, path: string): Promise<void> {
  const listing = await contents.get(path, { content: true });
  for (const entry of (listing.content as Contents.IModel[]) ?? []) {
    if (entry.type === 'directory') {
      await removeTree(contents, entry.path);
    } else {
      await contents.delete(entry.path);
    }
  }
  await contents.delete(path);
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * An executor that can be cancelled: the running cell's kernel is shut down and every call after that rejects with
 * LAB_CANCELLED, which ends the verification with an error report ("cancelled").
 */
export class CancellableExecutor implements ICellExecutor {
  constructor(private readonly _inner: ICellExecutor) {}

  get label(): string {
    return this._inner.label;
  }

  get cancelled(): boolean {
    return this._cancelled;
  }

  cancel(): void {
    if (!this._cancelled) {
      this._cancelled = true;
      this._disposed ??= this._inner.dispose();
    }
  }

  async execute(code: string, options?: { cellId?: string; timeoutMs?: number }): Promise<IExecuted> {
    this.check();
    const result = await this._inner.execute(code, options);
    this.check();
    return result;
  }

  writeFile(path: string, bytes: Uint8Array): Promise<void> {
    this.check();
    return this._inner.writeFile(path, bytes);
  }

  restart(): Promise<void> {
    this.check();
    return this._inner.restart();
  }

  dispose(): Promise<void> {
    this._disposed ??= this._inner.dispose();
    return this._disposed;
  }

  private check(): void {
    if (this._cancelled) {
      throw labError('LAB_CANCELLED', 'Cancelled by the user.');
    }
  }

  private _cancelled = false;
  private _disposed: Promise<void> | null = null;
}
