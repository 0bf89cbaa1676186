/**
 * Which files of a folder go into a notebook's bundle: the notebook, every environment file of its folder (and of
 * a `binder/` or `.binder/` folder there, repo2docker's rules) and the data files named with --data. Shared by
 * `ain pack` and by `ain verify`'s local executor, so that a verifier's kernel sees exactly a bundle's files.
 */
import { lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { isEnvironmentPath } from '../core/environment.js';
import { makeError } from '../core/errors.js';

/**
 * The bundle's files, keyed by POSIX path relative to `folder`: `notebookFile` (when given), the environment
 * files of `folder`, and every file under each `data` path (relative to `folder`, never outside it, no links).
 */
export function collectBundleFiles(
  folder: string,
  notebookFile: string | null,
  data: readonly string[]
): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const add = (file: string) => files.set(relative(folder, file).split(sep).join('/'), readFileSync(file));
  if (notebookFile) {
    add(readable(notebookFile, 'notebook'));
  }
  for (const sub of ['', 'binder', '.binder']) {
    for (const name of safeList(join(folder, sub))) {
      const path = sub ? `${sub}/${name}` : name;
      if (isEnvironmentPath(path) && statSync(join(folder, path)).isFile()) {
        add(join(folder, path));
      }
    }
  }
  for (const item of data) {
    const full = resolve(folder, item);
    if (relative(folder, full).startsWith('..')) {
      throw makeError(
        'BUNDLE_PATH_TRAVERSAL',
        `--data ${item} is outside the notebook's folder; bundles hold only files beside or below the notebook.`
      );
    }
    walk(readable(full, '--data path'), add);
  }
  return files;
}

function readable(path: string, what: string): string {
  try {
    statSync(path);
  } catch {
    throw makeError('BUNDLE_FILE_MISSING', `The ${what} ${path} does not exist: check the path.`, { path });
  }
  return path;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function walk(path: string, visit: (file: string) => void): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) {
    // A link could point anywhere on this machine: bundles never follow them (readers refuse them too).
    throw makeError(
      'BUNDLE_LINK',
      `${path} is a symbolic link; copy the file it points to into the folder instead.`,
      { path }
    );
  }
  if (stat.isDirectory()) {
    safeList(path).forEach(name => walk(join(path, name), visit));
  } else if (stat.isFile()) {
    visit(path);
  }
}
