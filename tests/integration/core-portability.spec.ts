// src/core runs in the browser, in a Web Worker and in Node: the lint rules of eslint.config.js must refuse
// Node built-ins, Buffer, process and the DOM there, and nothing in src/core may break them.
// ESLint runs as its own process (its config loader needs real ES module imports, which jest's VM lacks).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const eslintBin = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

function lint(
  args: string[],
  input?: string
): { filePath: string; messages: { message: string; severity: number }[] }[] {
  const run = spawnSync(process.execPath, [eslintBin, '--format', 'json', ...args], {
    cwd: root,
    input,
    encoding: 'utf8'
  });
  return JSON.parse(run.stdout);
}

async function problems(code: string, file: string): Promise<string[]> {
  return lint(['--stdin', '--stdin-filename', file], code)[0].messages.map(m => m.message);
}

describe('src/core portability', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", /no Node built-ins/],
    ["import { createHash } from 'crypto';\nexport const x = createHash;\n", /no Node built-ins/],
    [
      "import { Widget } from '@lumino/widgets';\nexport const x = Widget;\n",
      /must not depend on JupyterLab/
    ],
    ["import { x } from '../agent/store.js';\nexport const y = x;\n", /imports no other layer/],
    ['export const x = Buffer.from([1]);\n', /use Uint8Array/],
    ['export const x = document.title;\n', /no DOM/],
    ['export const x = process.env;\n', /no process/]
  ])('refuses %j', async (code, message) => {
    expect((await problems(code, 'src/core/example.ts')).join('\n')).toMatch(message);
  });

  it('allows the same import outside src/core', async () => {
    expect(
      await problems(
        "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
        'src/cli/example.ts'
      )
    ).toEqual([]);
  });

  it('holds for every file of src/core as it is', async () => {
    const results = lint(['src/core']);
    expect(results.length).toBeGreaterThan(5);
    const errors = results.flatMap(r =>
      r.messages.filter(m => m.severity === 2).map(m => `${r.filePath}: ${m.message}`)
    );
    expect(errors).toEqual([]);
  });
});
