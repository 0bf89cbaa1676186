/**
 * Shared by the hostile-input specs: a zip written byte by byte (tests/fixtures/raw-zip.ts, re-exported here: what
 * no zip library writes, such as lying sizes, links, duplicate names, hidden bytes), an honest bundle to mutate,
 * and the one rule every reader is held to: it either accepts, or throws an AinError with a code and a message.
 * Anything else (a TypeError, a RangeError, a hang) is a crash and fails the property.
 */
import { BundleManifest, bundleHashOf } from '../../src/core/bundle-manifest';
import { ReadBundle } from '../../src/core/bundle-reader';
import { createBundle } from '../../src/core/bundle-writer';
import { canonicalJson } from '../../src/core/canonical-json';
import { isAinError } from '../../src/core/errors';
import { sha256 } from '../../src/core/hash';
import { notebookHash } from '../../src/core/notebook';
import { IRawEntry, rawZip } from '../fixtures/raw-zip';

export { rawZip };
export type { IRawEntry };

export const encoder = new TextEncoder();

/** A small valid notebook. */
export function notebookBytes(cells = 2): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3' }, language_info: { name: 'python' } },
      cells: Array.from({ length: cells }, (_, i) => ({
        cell_type: 'code',
        metadata: {},
        execution_count: null,
        outputs: [],
        source: `x${i} = ${i}\nprint(x${i})`
      }))
    })
  );
}

/** The files of an honest bundle, and the bundle createBundle makes of them. */
export function honestBundle() {
  const files = new Map<string, Uint8Array>([
    ['analysis.ipynb', notebookBytes()],
    ['requirements.txt', encoder.encode('numpy==1.26.4\n')],
    ['data/input.csv', encoder.encode('a,b\n1,2\n3,4\n')]
  ]);
  return { files, bundle: createBundle({ notebookPath: 'analysis.ipynb', files }) };
}

/** The promise of an accepted bundle: its files are exactly the manifest's, and its hash is the manifest's. */
export function expectFaithful(read: ReadBundle): void {
  const listed = read.manifest.files;
  expect([...read.files.keys()]).toEqual(listed.map(f => f.path));
  for (const f of listed) {
    const data = read.files.get(f.path)!;
    expect(data.length).toBe(f.size);
    expect(sha256(data)).toBe(f.sha256);
  }
  expect(notebookHash(read.files.get(read.manifest.notebook)!)).toBe(read.manifest.notebookHash);
  expect(read.bundleHash).toBe(bundleHashOf(read.manifest));
}

/** A bundle whose manifest lists `extra` files next to the honest ones (sorted as the writer sorts them). */
export function withFiles(extra: IRawEntry[], manifestEdit: (m: BundleManifest) => void = () => undefined) {
  const { files, bundle } = honestBundle();
  const manifest = JSON.parse(JSON.stringify(bundle.manifest)) as BundleManifest;
  for (const e of extra) {
    const data = e.data ?? new Uint8Array(0);
    manifest.files.push({
      path: typeof e.name === 'string' ? e.name : new TextDecoder().decode(e.name),
      size: data.length,
      sha256: sha256(data)
    });
  }
  manifest.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  manifestEdit(manifest);
  return rawZip([
    { name: 'ain-manifest.json', data: encoder.encode(canonicalJson(manifest)) },
    ...[...files].map(([name, data]) => ({ name, data })),
    ...extra
  ]);
}

/** The honest bundle's entries, manifest first, for bundles that add an unlisted entry. */
export function honestEntries(): IRawEntry[] {
  const { files, bundle } = honestBundle();
  return [
    { name: 'ain-manifest.json', data: encoder.encode(canonicalJson(bundle.manifest)) },
    ...[...files].map(([name, data]) => ({ name, data }))
  ];
}

/** What a reader did with one input: accepted it (with its result), or refused it with an AinError code. */
export type Outcome<T> = { accepted: T } | { code: string; message: string };

/** Runs `read`; an AinError without a code or a message, or any other exception, is rethrown (a crash). */
export function outcome<T>(read: () => T): Outcome<T> {
  try {
    return { accepted: read() };
  } catch (e) {
    if (isAinError(e) && typeof e.code === 'string' && e.code && e.message.length > 10) {
      return { code: e.code, message: e.message };
    }
    throw e;
  }
}

/** Counts outcomes by code ("accepted" for acceptances), for the records' notes. */
export class Tally {
  readonly counts = new Map<string, number>();
  tried = 0;

  add(o: Outcome<unknown>): void {
    this.tried++;
    const key = 'accepted' in o ? 'accepted' : o.code;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  get accepted(): number {
    return this.counts.get('accepted') ?? 0;
  }

  /** "BUNDLE_MALFORMED_ZIP 812, BUNDLE_HASH_MISMATCH 40, accepted 3" — the most frequent first. */
  toString(): string {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  }
}
