/**
 * Shared by the hostile-input specs: a zip written byte by byte (what no zip library writes: lying sizes, links,
 * duplicate names, hidden bytes), an honest bundle to mutate, and the one rule every reader is held to: it either
 * accepts, or throws an AinError with a code and a message. Anything else (a TypeError, a RangeError, a hang) is a
 * crash and fails the property.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { BundleManifest, bundleHashOf } from '../../src/core/bundle-manifest';
import { ReadBundle } from '../../src/core/bundle-reader';
import { createBundle } from '../../src/core/bundle-writer';
import { canonicalJson } from '../../src/core/canonical-json';
import { isAinError } from '../../src/core/errors';
import { sha256 } from '../../src/core/hash';
import { notebookHash } from '../../src/core/notebook';

export const encoder = new TextEncoder();

/** One entry of a hand-written zip; every field a hostile writer controls. */
export interface IRawEntry {
  name: string | Uint8Array;
  data?: Uint8Array;
  /** 0 stored, 8 deflate. */
  method?: number;
  /** The compressed bytes, when not the deflate (or copy) of `data`. */
  compressed?: Uint8Array;
  /** The uncompressed size declared in both headers, when not the true one. */
  size?: number;
  /** External attributes (Unix mode << 16 | DOS bits). */
  attributes?: number;
}

/** Writes a zip (PKWARE APPNOTE 4.3 local headers, central directory, end record). */
export function rawZip(entries: IRawEntry[]): Uint8Array {
  const chunks: Buffer[] = [];
  const records: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.from(e.data ?? new Uint8Array(0));
    const method = e.method ?? 8;
    const compressed = Buffer.from(e.compressed ?? (method === 8 ? deflateRawSync(data) : data));
    const name = Buffer.from(typeof e.name === 'string' ? encoder.encode(e.name) : e.name);
    const size = e.size ?? data.length;
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0x00210000, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(0x0314, 4);
    record.writeUInt16LE(20, 6);
    record.writeUInt16LE(0x800, 8);
    record.writeUInt16LE(method, 10);
    record.writeUInt32LE(0x00210000, 12);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(compressed.length, 20);
    record.writeUInt32LE(size, 24);
    record.writeUInt16LE(name.length, 28);
    record.writeUInt32LE((e.attributes ?? 0o100644 << 16) >>> 0, 38);
    record.writeUInt32LE(offset, 42);
    records.push(Buffer.concat([record, name]));
    const chunk = Buffer.concat([local, name, compressed]);
    chunks.push(chunk);
    offset += chunk.length;
  }
  const cd = Buffer.concat(records);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(records.length, 8);
  end.writeUInt16LE(records.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...chunks, cd, end]));
}

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
