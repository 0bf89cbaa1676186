/**
 * Writes the checked bundle of an `ain-bundle=` launch link into the user's JupyterLab files, under
 * `ain-launch/<first 8 hex digits of its hash>/`, and never over anything that is there: a folder that already
 * holds this very bundle (its `ain-bundle.json` names the same hash) is reused as it is, with the user's edits; any
 * other existing folder of that name is left alone and the next free name (`…-2`, `…-3`) is taken.
 *
 * `ain-bundle.json`, written last, records where the files came from (hash, agent, manifest): a folder without it
 * was not completely written and is never reused.
 */
import { Contents } from '@jupyterlab/services';
import { launchFolder } from '../core/launch-link.js';
import type { IFetchedBundle } from './launch-worker-api.js';

/** The provenance file of an unpacked bundle. */
export const PROVENANCE_FILE = 'ain-bundle.json';

/** Where a bundle landed. */
export interface IUnpackedBundle {
  folder: string;
  notebookPath: string;
  /** True when the folder already held this bundle and nothing was written. */
  reused: boolean;
}

/** Unpacks `bundle` (fetched from `agentUrl`) into the user's files. */
export async function unpackLaunchBundle(
  contents: Contents.IManager,
  bundle: IFetchedBundle,
  agentUrl: string
): Promise<IUnpackedBundle> {
  const base = launchFolder(bundle.bundleHash);
  for (let n = 1; n <= 20; n++) {
    const folder = n === 1 ? base : `${base}-${n}`;
    const state = await Private.folderState(contents, folder, bundle.bundleHash);
    if (state === 'same') {
      return { folder, notebookPath: `${folder}/${bundle.manifest.notebook}`, reused: true };
    }
    if (state === 'free') {
      await Private.write(contents, folder, bundle, agentUrl);
      return { folder, notebookPath: `${folder}/${bundle.manifest.notebook}`, reused: false };
    }
  }
  throw new Error(
    `${base} and 19 more folders next to it already exist with other content; move or delete some of them and open ` +
      'the link again.'
  );
}

namespace Private {
  /** 'free' (nothing there), 'same' (this bundle, complete) or 'taken' (anything else). */
  export async function folderState(
    contents: Contents.IManager,
    folder: string,
    bundleHash: string
  ): Promise<'free' | 'same' | 'taken'> {
    try {
      await contents.get(folder, { content: false });
    } catch (e) {
      if (status(e) === 404) {
        return 'free';
      }
      throw e;
    }
    try {
      const model = await contents.get(`${folder}/${PROVENANCE_FILE}`, {
        content: true,
        type: 'file',
        format: 'text'
      });
      const record = JSON.parse(String(model.content)) as { bundleHash?: string };
      return record.bundleHash === bundleHash ? 'same' : 'taken';
    } catch {
      return 'taken';
    }
  }

  export async function write(
    contents: Contents.IManager,
    folder: string,
    bundle: IFetchedBundle,
    agentUrl: string
  ): Promise<void> {
    const dirs = new Set<string>();
    const addParents = (path: string) => {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        dirs.add(parts.slice(0, i).join('/'));
      }
    };
    addParents(`${folder}/${PROVENANCE_FILE}`);
    Object.keys(bundle.files).forEach(p => addParents(`${folder}/${p}`));
    // Parents first; an existing `ain-launch/` is fine (PUT on a folder that exists changes nothing).
    for (const dir of [...dirs].sort((a, b) => a.split('/').length - b.split('/').length)) {
      await contents.save(dir, { type: 'directory' });
    }
    for (const [path, bytes] of Object.entries(bundle.files)) {
      await contents.save(`${folder}/${path}`, { type: 'file', format: 'base64', content: base64(bytes) });
    }
    const provenance = {
      bundleHash: bundle.bundleHash,
      agentUrl,
      notebook: bundle.manifest.notebook,
      notebookHash: bundle.manifest.notebookHash,
      environment: bundle.manifest.environment.kind,
      files: bundle.manifest.files,
      fetchedAt: new Date().toISOString()
    };
    await contents.save(`${folder}/${PROVENANCE_FILE}`, {
      type: 'file',
      format: 'text',
      content: JSON.stringify(provenance, null, 1) + '\n'
    });
  }

  export function base64(bytes: Uint8Array): string {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  function status(e: unknown): number | undefined {
    return (e as { response?: { status?: number } }).response?.status;
  }
}
