/**
 * What goes into a notebook's bundle: the notebook as it is in the editor (unsaved edits included, so what runs is
 * what the user sees) and the environment files of its folder (and of a `binder/` or `.binder/` folder there), read
 * through JupyterLab's contents service. Paths are relative to the notebook's folder, as the core expects.
 */
import { Contents } from '@jupyterlab/services';
import { isEnvironmentPath } from '../core/environment.js';

/** The notebook's folder and name from its path. */
export function splitPath(path: string): { dir: string; name: string } {
  const i = path.lastIndexOf('/');
  return i < 0 ? { dir: '', name: path } : { dir: path.slice(0, i), name: path.slice(i + 1) };
}

/** The bundle's files: `name` -> the notebook JSON, plus every environment file next to it. */
export async function notebookFiles(
  contents: Contents.IManager,
  path: string,
  notebook: object
): Promise<Map<string, Uint8Array>> {
  const { dir, name } = splitPath(path);
  const files = new Map<string, Uint8Array>();
  files.set(name, new TextEncoder().encode(JSON.stringify(notebook, null, 1) + '\n'));
  const candidates: string[] = [];
  const listing = await contents.get(dir, { content: true });
  for (const entry of (listing.content as Contents.IModel[]) ?? []) {
    if (entry.type !== 'directory' && entry.name !== name && isEnvironmentPath(entry.name)) {
      candidates.push(entry.name);
    }
    if (entry.type === 'directory' && (entry.name === 'binder' || entry.name === '.binder')) {
      const sub = await contents.get(entry.path, { content: true });
      for (const inner of (sub.content as Contents.IModel[]) ?? []) {
        const rel = `${entry.name}/${inner.name}`;
        if (inner.type !== 'directory' && isEnvironmentPath(rel)) {
          candidates.push(rel);
        }
      }
    }
  }
  await Promise.all(
    candidates.map(async rel => {
      const model = await contents.get(dir ? `${dir}/${rel}` : rel, {
        content: true,
        format: 'base64',
        type: 'file'
      });
      files.set(rel, Private.base64(String(model.content ?? '')));
    })
  );
  return files;
}

/**
 * The notebook without outputs, execution counts and `metadata.ain`: what a verifier's provider gets to run (its
 * notebook hash is the same, since the hash covers neither).
 */
export function withoutOutputs(notebook: object): object {
  const nb = JSON.parse(JSON.stringify(notebook)) as {
    metadata?: Record<string, unknown>;
    cells?: { cell_type?: string; outputs?: unknown[]; execution_count?: number | null }[];
  };
  if (nb.metadata) {
    delete nb.metadata.ain;
  }
  for (const cell of nb.cells ?? []) {
    if (cell.cell_type === 'code') {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
  return nb;
}

namespace Private {
  export function base64(text: string): Uint8Array {
    const binary = atob(text.replace(/\s+/g, ''));
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) {
      out[i] = binary.charCodeAt(i);
    }
    return out;
  }
}
