/**
 * `ain pack <notebook>`: writes the notebook's bundle (.ainb) and says what a provider will install and refuse.
 * The bundle holds the notebook, the environment files of its folder (repo2docker's rules) and the data files
 * named with --data; the same inputs always give the same bytes and the same bundle hash.
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBundle } from '../../core/bundle-writer.js';
import { detectEnvironment } from '../../core/environment.js';
import { collectBundleFiles } from '../bundle-files.js';
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
    const files = collectBundleFiles(folder, notebookFile, values.data ?? []);
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
