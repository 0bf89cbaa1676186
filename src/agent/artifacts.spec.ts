import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactGlobs, collectArtifacts, globToRegExp } from './artifacts';

test('globs', () => {
  expect(artifactGlobs(['x', 'ain:artifacts=data/*.csv', 'ain:artifacts= out/** '])).toEqual([
    'data/*.csv',
    'out/**'
  ]);
  expect(globToRegExp('data/*.csv').test('data/a.csv')).toBe(true);
  expect(globToRegExp('data/*.csv').test('data/sub/a.csv')).toBe(false);
  expect(globToRegExp('**/*.png').test('a/b/c.png')).toBe(true);
  expect(globToRegExp('**/*.png').test('c.png')).toBe(true);
  expect(globToRegExp('f?.txt').test('f1.txt')).toBe(true);
  expect(globToRegExp('a.b').test('axb')).toBe(false);
});

test('declared globs, else outputs/ files written in the window, each version once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ain-art-'));
  try {
    mkdirSync(join(dir, 'outputs'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'outputs', 'a.txt'), 'A');
    writeFileSync(join(dir, 'data', 'x.csv'), '1,2');
    const t = statSync(join(dir, 'outputs', 'a.txt')).mtimeMs;
    const seen = new Map<string, string>();
    const first = await collectArtifacts(dir, [], { from: t - 1, to: t + 1, seen });
    expect(first.artifacts.map(a => [a.path, a.size])).toEqual([['outputs/a.txt', 1]]);
    expect(first.artifacts[0].sha256).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await collectArtifacts(dir, [], { from: t - 1, to: t + 1, seen })).artifacts).toEqual([]);
    expect((await collectArtifacts(dir, [], { from: t + 5, to: t + 9 })).artifacts).toEqual([]);
    const declared = await collectArtifacts(dir, ['data/*.csv'], { from: 0, to: 0 });
    expect(declared.artifacts.map(a => a.path)).toEqual(['data/x.csv']);
    const limited = await collectArtifacts(dir, ['**'], { from: 0, to: 0 }, { maxFileBytes: 2 });
    expect(limited.artifacts.map(a => a.path)).toEqual(['outputs/a.txt']);
    expect(limited.skipped).toEqual(['data/x.csv']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
