// `ain pack` as a user runs it: a real process on real files (needs `npm run build:lib`).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBundle } from '../../src/core/bundle-reader';

const root = join(__dirname, '..', '..');

function ain(args: string[], cwd: string) {
  const run = spawnSync(process.execPath, [join(root, 'bin', 'ain.js'), ...args], { cwd, encoding: 'utf8' });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('ain pack', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ain-pack-'));
    cpSync(join(root, 'examples', 'hello-ain.ipynb'), join(dir, 'hello.ipynb'));
    writeFileSync(join(dir, 'requirements.txt'), 'numpy==2.1.3\n');
    writeFileSync(join(dir, 'apt.txt'), 'libgomp1\n');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'points.csv'), 'x,y\n1,2\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the same bytes and hash twice in a row, and says what is installed and refused', () => {
    const first = ain(['pack', 'hello.ipynb', '--data', 'data', '--out', 'one.ainb'], dir);
    const second = ain(['pack', 'hello.ipynb', '--data', 'data', '--out', 'two.ainb'], dir);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const hash = /bundle hash +(0x[0-9a-f]{64})/.exec(first.out)?.[1];
    expect(hash).toBeDefined();
    expect(second.out).toContain(hash);
    expect(readFileSync(join(dir, 'one.ainb'))).toEqual(readFileSync(join(dir, 'two.ainb')));
    expect(first.out).toMatch(/install +numpy==2\.1\.3/);
    expect(first.out).toMatch(/REFUSED +apt\.txt/);

    const bundle = readBundle(new Uint8Array(readFileSync(join(dir, 'one.ainb'))));
    expect(bundle.bundleHash).toBe(hash);
    expect([...bundle.files.keys()].sort()).toEqual([
      'apt.txt',
      'data/points.csv',
      'hello.ipynb',
      'requirements.txt'
    ]);
  });

  it('gives another hash when a data byte changes, and JSON on request', () => {
    const before = JSON.parse(ain(['pack', 'hello.ipynb', '--data', 'data/points.csv', '--json'], dir).out);
    writeFileSync(join(dir, 'data', 'points.csv'), 'x,y\n1,3\n');
    const after = JSON.parse(ain(['pack', 'hello.ipynb', '--data', 'data/points.csv', '--json'], dir).out);
    expect(after.bundleHash).not.toBe(before.bundleHash);
    expect(after.manifest.notebookHash).toBe(before.manifest.notebookHash);
    expect(before.manifest.environment.refused).toEqual([expect.objectContaining({ file: 'apt.txt' })]);
  });

  it('refuses bad input with exit code 2 and a message that says what to do', () => {
    const missing = ain(['pack', 'nope.ipynb'], dir);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/does not exist/);
    const outside = ain(['pack', 'hello.ipynb', '--data', '../'], dir);
    expect(outside.code).toBe(2);
    expect(outside.err).toMatch(/outside the notebook's folder/);
    symlinkSync('/etc/hostname', join(dir, 'data', 'link'));
    const link = ain(['pack', 'hello.ipynb', '--data', 'data'], dir);
    expect(link.code).toBe(2);
    expect(link.err).toMatch(/symbolic link/);
    writeFileSync(join(dir, 'broken.ipynb'), '{"cells": [');
    const broken = ain(['pack', 'broken.ipynb'], dir);
    expect(broken.code).toBe(2);
    expect(broken.err).toMatch(/not valid JSON/);
  });
});
