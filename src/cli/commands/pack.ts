/**
 * `ain pack <notebook>`: writes the notebook's bundle (.ainb) and says what a provider will install and refuse.
 * The bundle holds the notebook, the environment files of its folder (repo2docker's rules) and the data files
 * named with --data; the same inputs always give the same bytes and the same bundle hash.
 */
import { lstatSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { createBundle } from '../../core/bundle-writer.js';
import { detectEnvironment, isEnvironmentPath } from '../../core/environment.js';
import { makeError } from '../../core/errors.js';
import { ICommand } from '../main.js';
import { printEnvironment } from '../report.js';

const USAGE = `Usage: ain pack <notebook.ipynb> [--out FILE] [--data PATH ...] [--json]

Writes a bundle with the notebook, its environment files and the data files you name, and prints its hash.
  --out FILE     where to write the bundle (default: <notebook>.ainb beside the notebook)
  --data PATH    a file or folder (relative to the notebook's folder) to include; repeatable
  --json         print the manifest and hash as JSON instead of a summary`;

export const command: ICommand = {
  summary: 'write a notebook bundle (.ainb) and print its hash and environment',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        data: { type: 'string', multiple: true, default: [] },
        json: { type: 'boolean', default: false }
      },
      allowPositionals: true
    });
    if (positionals.length !== 1) {
      console.error(`ain pack: give exactly one notebook.\n\n${USAGE}`);
      return 2;
    }
    const notebookFile = resolve(positionals[0]);
    const folder = dirname(notebookFile);
    const files = collectFiles(folder, notebookFile, values.data ?? []);
    const bundle = createBundle({ notebookPath: basename(notebookFile), files });
    const out = resolve(values.out ?? notebookFile.replace(/\.ipynb$/, '') + '.ainb');
    writeFileSync(out, bundle.bytes);
    if (values.json) {
      console.log(
        JSON.stringify({ bundle: out, bundleHash: bundle.bundleHash, manifest: bundle.manifest }, null, 2)
      );
      return 0;
    }
    console.log(`bundle       ${out} (${bundle.bytes.length} bytes, ${bundle.manifest.files.length} files)`);
    console.log(`bundle hash  ${bundle.bundleHash}`);
    console.log(`notebook     ${bundle.manifest.notebook} ${bundle.manifest.notebookHash}`);
    // The manifest keeps stable rule codes only; the full report has the reasons and what to do.
    printEnvironment(detectEnvironment(files));
    return 0;
  }
};

/** The notebook, every environment file of its folder and the named data files, keyed by POSIX path. */
function collectFiles(folder: string, notebookFile: string, data: string[]): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const add = (file: string) => files.set(relative(folder, file).split(sep).join('/'), readFileSync(file));
  add(readable(notebookFile, 'notebook'));
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
      {
        path
      }
    );
  }
  if (stat.isDirectory()) {
    safeList(path).forEach(name => walk(join(path, name), visit));
  } else if (stat.isFile()) {
    visit(path);
  }
}
