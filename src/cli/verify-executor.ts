/**
 * The kernel `ain verify` re-executes a run in: a local one (startLocalExecutor) or a run opened on another
 * provider (startProviderExecutor, paid by the verifier's key), over the run's own bundle when `--bundle` gave
 * it, else over the files a bundle of the notebook's folder would hold (the notebook, its environment files and
 * `--data`).
 */
import { basename, dirname } from 'node:path';
import type { IChainConfig } from '../chain/config.js';
import type { ReadBundle } from '../core/bundle-reader.js';
import { createBundle } from '../core/bundle-writer.js';
import type { ICellExecutor } from '../core/verification.js';
import { collectBundleFiles } from './bundle-files.js';
import { startLocalExecutor } from './verify-executor-local.js';
import { startProviderExecutor } from './verify-executor-provider.js';
import { IKeyOptions, signingSession } from './verify-session.js';

export interface IExecutorChoice {
  /** The notebook file. */
  file: string;
  /** 'local' or a provider's address. */
  where: string;
  /** Escrow of a provider run (default: the provider's price for 15 minutes). */
  budget?: bigint;
  /** The run's own bundle, when given. */
  bundle: ReadBundle | null;
  config: IChainConfig;
  data: string[];
  dataDir: string;
  keys: IKeyOptions;
}

/** Starts the executor `o` describes. */
export async function startExecutor(o: IExecutorChoice, log: (line: string) => void): Promise<ICellExecutor> {
  const { file, bundle, dataDir } = o;
  if (o.where === 'local') {
    return bundle
      ? startLocalExecutor({
          files: bundle.files,
          notebookPath: bundle.manifest.notebook,
          dataDir,
          onProgress: log
        })
      : startLocalExecutor({ notebook: file, data: o.data, dataDir, onProgress: log });
  }
  const session = await signingSession(o.config, o.keys, '--reproduce <provider>');
  // The same files give the same bytes: a run's own bundle is re-created with its hash.
  const written = bundle
    ? createBundle({ notebookPath: bundle.manifest.notebook, files: bundle.files })
    : createBundle({ notebookPath: basename(file), files: collectBundleFiles(dirname(file), file, o.data) });
  const inner = await startProviderExecutor({
    session,
    provider: o.where,
    bundle: written,
    budget: o.budget,
    onProgress: log
  }).catch(e => {
    session.close();
    throw e;
  });
  return {
    label: inner.label,
    execute: (code, opts) => inner.execute(code, opts),
    writeFile: (path, bytes) => inner.writeFile(path, bytes),
    restart: () => inner.restart(),
    dispose: () => inner.dispose().finally(() => session.close())
  };
}
