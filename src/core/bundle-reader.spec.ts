import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { IRawEntry, rawZip } from '../../tests/fixtures/raw-zip.js';
import { BundleManifest } from './bundle-manifest.js';
import { readBundle } from './bundle-reader.js';
import { createBundle } from './bundle-writer.js';
import { canonicalJson } from './canonical-json.js';
import { AinError, AinErrorCode, isAinError } from './errors.js';

const encoder = new TextEncoder();
const MiB = 1024 * 1024;

const notebook = encoder.encode(
  JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3' } },
    cells: [{ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: 'print(42)' }]
  })
);

function honest() {
  const files: Record<string, Uint8Array> = {
    'nb.ipynb': notebook,
    'requirements.txt': encoder.encode('numpy==1.26.4\n'),
    'apt.txt': encoder.encode('curl\n'),
    'data/x.csv': encoder.encode('a,b\n1,2\n')
  };
  const bundle = createBundle({ notebookPath: 'nb.ipynb', files: new Map(Object.entries(files)) });
  return { files, manifest: JSON.parse(JSON.stringify(bundle.manifest)) as BundleManifest, bundle };
}

/** A bundle with the given manifest (an object is written as canonical JSON) and files, written by hand. */
function forge(manifest: unknown, files: Record<string, Uint8Array>, extra: IRawEntry[] = []): Uint8Array {
  const bytes =
    manifest instanceof Uint8Array
      ? manifest
      : encoder.encode(typeof manifest === 'string' ? manifest : canonicalJson(manifest));
  return rawZip([
    { name: 'ain-manifest.json', data: bytes },
    ...Object.entries(files).map(([name, data]) => ({ name, data })),
    ...extra
  ]);
}

function refusal(bytes: Uint8Array, limits = {}): AinError {
  try {
    readBundle(bytes, limits);
  } catch (e) {
    if (isAinError(e)) {
      return e;
    }
    throw e;
  }
  throw new Error('the bundle was accepted');
}

function expectRefused(bytes: Uint8Array, code: AinErrorCode, limits = {}): AinError {
  const e = refusal(bytes, limits);
  expect(`${e.code}: ${e.message}`).toMatch(new RegExp(`^${code}: `));
  return e;
}

describe('readBundle: what it accepts', () => {
  it('accepts an honest bundle written by hand as well as by createBundle', () => {
    const { files, manifest, bundle } = honest();
    const read = readBundle(forge(manifest, files));
    expect(read.bundleHash).toBe(bundle.bundleHash);
    expect(Object.fromEntries(read.files)).toEqual(files);
  });

  it('accepts data descriptors, empty folder entries and stored entries, as other zip tools write them', () => {
    const { files, manifest, bundle } = honest();
    const bytes = rawZip([
      { name: 'ain-manifest.json', data: encoder.encode(canonicalJson(manifest)), descriptor: true },
      { name: 'data/', madeBy: 3, attributes: (0o040755 << 16) | 0x10 },
      ...Object.entries(files).map(([name, data]) => ({ name, data, method: 0, madeBy: 0, attributes: 0x20 }))
    ]);
    expect(readBundle(bytes).bundleHash).toBe(bundle.bundleHash);
  });
});

describe('readBundle: the zip structure', () => {
  it.each([
    ['text', encoder.encode('{"format": "ain-bundle/1"}')],
    ['nothing', new Uint8Array(0)],
    ['a PNG', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(40).fill(0)])]
  ])('refuses %s as not a zip', (_what, bytes) => {
    expect(expectRefused(bytes, 'BUNDLE_NOT_A_ZIP').message).toMatch(/not a zip/);
  });

  it('refuses a truncated bundle', () => {
    const { bundle } = honest();
    expectRefused(bundle.bytes.subarray(0, bundle.bytes.length - 1), 'BUNDLE_NOT_A_ZIP');
    expectRefused(bundle.bytes.subarray(100), 'BUNDLE_MALFORMED_ZIP');
  });

  it('refuses bytes hidden before or between entries', () => {
    const { files, manifest, bundle } = honest();
    expectRefused(
      new Uint8Array([...encoder.encode('#!/bin/sh\n'), ...bundle.bytes]),
      'BUNDLE_MALFORMED_ZIP'
    );
    const hidden = rawZip(
      [
        { name: 'ain-manifest.json', data: encoder.encode(canonicalJson(manifest)) },
        ...Object.entries(files).map(([name, data]) => ({ name, data }))
      ],
      { gapAfter: 1 }
    );
    expect(expectRefused(hidden, 'BUNDLE_MALFORMED_ZIP').message).toMatch(/hidden bytes/);
  });

  it('refuses overlapping entries (the non-recursive zip bomb)', () => {
    const bytes = rawZip([{ name: 'a.txt', data: new Uint8Array(100) }], { repeat: [0, 0, 0] });
    expect(expectRefused(bytes, 'BUNDLE_MALFORMED_ZIP').message).toMatch(/overlaps/);
  });

  it('refuses a local header that names another file than the central directory', () => {
    const bytes = rawZip([{ name: 'notes.txt', localName: '../evil', data: encoder.encode('x') }]);
    expectRefused(bytes, 'BUNDLE_MALFORMED_ZIP');
  });

  it('refuses invalid deflate data', () => {
    const { manifest } = honest();
    const data = encoder.encode(canonicalJson(manifest));
    for (const compressed of [new Uint8Array([0xff, 0xff, 0xff]), deflateRawSync(data).subarray(0, 20)]) {
      expectRefused(rawZip([{ name: 'ain-manifest.json', data, compressed }]), 'BUNDLE_MALFORMED_ZIP');
    }
  });

  it.each([
    ['encryption', { flags: 0x801 }],
    ['bzip2', { method: 12 }],
    ['LZMA', { method: 14 }]
  ])('refuses %s as unsupported', (_what, raw) => {
    expectRefused(rawZip([{ name: 'a.txt', data: encoder.encode('x'), ...raw }]), 'BUNDLE_UNSUPPORTED_ZIP');
  });

  it('refuses Zip64', () => {
    expectRefused(rawZip([], { count: 0xffff }), 'BUNDLE_UNSUPPORTED_ZIP');
  });
});

describe('readBundle: paths, links and names', () => {
  it.each([
    ['../evil', 'BUNDLE_PATH_TRAVERSAL'],
    ['data/../../evil', 'BUNDLE_PATH_TRAVERSAL'],
    ['..\\evil', 'BUNDLE_PATH_TRAVERSAL'],
    ['..', 'BUNDLE_PATH_TRAVERSAL'],
    ['/etc/passwd', 'BUNDLE_ABSOLUTE_PATH'],
    ['C:\\Windows\\win.ini', 'BUNDLE_ABSOLUTE_PATH'],
    ['c:evil.txt', 'BUNDLE_ABSOLUTE_PATH'],
    ['\\\\server\\share\\x', 'BUNDLE_ABSOLUTE_PATH'],
    ['data\\x.csv', 'BUNDLE_INVALID_PATH'],
    ['data//x.csv', 'BUNDLE_INVALID_PATH'],
    ['./x.csv', 'BUNDLE_INVALID_PATH'],
    ['data/NUL', 'BUNDLE_INVALID_PATH'],
    ['data/com1.txt', 'BUNDLE_INVALID_PATH'],
    ['x.csv.', 'BUNDLE_INVALID_PATH'],
    ['x\u0001.csv', 'BUNDLE_INVALID_PATH'],
    ['x.csv:stream', 'BUNDLE_INVALID_PATH'],
    ['a'.repeat(256), 'BUNDLE_INVALID_PATH']
  ])('refuses the entry %s (%s) before reading the manifest', (name, code) => {
    const { files, manifest } = honest();
    const e = expectRefused(
      forge(manifest, files, [{ name, data: encoder.encode('x') }]),
      code as AinErrorCode
    );
    expect(e.info.path).toBe(name);
  });

  it('refuses a name that is not UTF-8', () => {
    expectRefused(
      rawZip([{ name: new Uint8Array([0x61, 0xff, 0x62]), data: encoder.encode('x') }]),
      'BUNDLE_INVALID_PATH'
    );
  });

  it('refuses a Unix symbolic link', () => {
    const { files, manifest } = honest();
    const link = {
      name: 'data/passwd',
      data: encoder.encode('/etc/passwd'),
      method: 0,
      attributes: (0o120777 << 16) >>> 0
    };
    expect(expectRefused(forge(manifest, files, [link]), 'BUNDLE_LINK').message).toMatch(/symbolic link/);
  });

  it('refuses a symbolic link even when the host byte says DOS, and a Windows reparse point', () => {
    expectRefused(
      rawZip([{ name: 'l', data: encoder.encode('/etc'), madeBy: 0, attributes: (0o120777 << 16) >>> 0 }]),
      'BUNDLE_LINK'
    );
    expectRefused(
      rawZip([{ name: 'l', data: encoder.encode('x'), madeBy: 0, attributes: 0x420 }]),
      'BUNDLE_LINK'
    );
  });

  it('refuses a named pipe', () => {
    expectRefused(
      rawZip([{ name: 'fifo', data: new Uint8Array(0), attributes: (0o010644 << 16) >>> 0 }]),
      'BUNDLE_INVALID_PATH'
    );
  });

  it.each([
    ['the same name twice', ['data/x.csv', 'data/x.csv']],
    ['names that differ only in case', ['data/x.csv', 'data/X.CSV']],
    ['names that differ only in Unicode form', ['caf\u00e9.txt', 'cafe\u0301.txt']],
    ['a file that is also a folder', ['data', 'data/x.csv']]
  ])('refuses %s', (_what, names) => {
    const bytes = rawZip(names.map(name => ({ name, data: encoder.encode(name) })));
    expectRefused(bytes, 'BUNDLE_DUPLICATE_NAME');
  });
});

describe('readBundle: limits and zip bombs', () => {
  let bomb200: Uint8Array;
  let bomb50: Uint8Array;
  beforeAll(() => {
    bomb200 = deflateRawSync(Buffer.alloc(200 * MiB), { level: 9 });
    bomb50 = deflateRawSync(Buffer.alloc(50 * MiB), { level: 9 });
  });

  it('stops inflating a 200 MB bomb that declares 1,000 bytes as soon as it passes them', () => {
    expect(bomb200.length).toBeLessThan(MiB);
    const { files, manifest } = honest();
    manifest.files = [
      ...manifest.files,
      { path: 'data/zeros.bin', size: 1000, sha256: '0x' + '0'.repeat(64) }
    ].sort((a, b) => (a.path < b.path ? -1 : 1));
    const bytes = forge(manifest, files, [{ name: 'data/zeros.bin', compressed: bomb200, size: 1000 }]);
    const e = expectRefused(bytes, 'BUNDLE_SIZE_MISMATCH');
    expect(e.info).toMatchObject({ path: 'data/zeros.bin', declared: 1000 });
    expect(e.info.inflated as number).toBeLessThan(8 * MiB); // one step of output, not 200 MB
    expect(e.message).toMatch(/zip bomb/);
  });

  it('refuses a 200 MB bomb that declares its size, before inflating anything', () => {
    const bytes = rawZip([{ name: 'zeros.bin', compressed: bomb200, size: 200 * MiB }]);
    const started = Date.now();
    expectRefused(bytes, 'BUNDLE_FILE_TOO_LARGE');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a 50 MB entry that compresses a thousand times', () => {
    const e = expectRefused(
      rawZip([{ name: 'zeros.bin', compressed: bomb50, size: 50 * MiB }]),
      'BUNDLE_COMPRESSION_RATIO'
    );
    expect(e.info.ratio as number).toBeGreaterThan(100);
  });

  it('refuses entries whose declared sizes add up past the total limit', () => {
    const entries = ['a', 'b', 'c'].map(name => ({ name, data: new Uint8Array(400) }));
    expectRefused(rawZip(entries), 'BUNDLE_TOO_LARGE', { maxTotalSize: 1000 });
  });

  it('refuses an archive larger than any bundle under the limits, before parsing it', () => {
    expectRefused(new Uint8Array(2 * MiB), 'BUNDLE_TOO_LARGE', { maxTotalSize: 1000, maxFiles: 10 });
  });

  it('refuses more entries than the limit, before reading them', () => {
    const entries = ['a', 'b', 'c', 'd'].map(name => ({ name, data: encoder.encode(name) }));
    expect(expectRefused(rawZip(entries), 'BUNDLE_TOO_MANY_FILES', { maxFiles: 3 }).info).toEqual({
      count: 4,
      limit: 3
    });
  });

  it('refuses an entry that inflates to less than it declares', () => {
    const { files, manifest } = honest();
    const csv = files['data/x.csv'];
    manifest.files = manifest.files.map(f => (f.path === 'data/x.csv' ? { ...f, size: csv.length + 5 } : f));
    const bytes = forge(manifest, {}, [
      ...Object.entries(files)
        .filter(([n]) => n !== 'data/x.csv')
        .map(([name, data]) => ({ name, data })),
      { name: 'data/x.csv', data: csv, size: csv.length + 5 }
    ]);
    expectRefused(bytes, 'BUNDLE_SIZE_MISMATCH');
  });
});

describe('readBundle: the manifest against the files', () => {
  it('refuses a zip without a manifest', () => {
    expectRefused(rawZip([{ name: 'nb.ipynb', data: notebook }]), 'BUNDLE_MANIFEST_MISSING');
  });

  it.each([
    ['not JSON', (m: BundleManifest) => `${canonicalJson(m)}}`],
    ['not UTF-8', () => new Uint8Array([0x7b, 0xff, 0x7d])],
    ['pretty-printed', (m: BundleManifest) => JSON.stringify(m, null, 2)],
    ['of another format', (m: BundleManifest) => ({ ...m, format: 'ain-bundle/2' })],
    ['with an extra key', (m: BundleManifest) => ({ ...m, signedBy: 'me' })],
    ['without the notebook among its files', (m: BundleManifest) => ({ ...m, notebook: 'other.ipynb' })],
    ['with unsorted files', (m: BundleManifest) => ({ ...m, files: [...m.files].reverse() })],
    [
      'with a negative size',
      (m: BundleManifest) => ({ ...m, files: m.files.map(f => ({ ...f, size: -1 })) })
    ],
    ['with a hash that is not hex', (m: BundleManifest) => ({ ...m, notebookHash: 'abc' })],
    ['that is a list', () => '[]'],
    [
      'with a number JSON cannot hold exactly',
      (m: BundleManifest) => canonicalJson(m).replace(/"size":\d+/, '"size":1e400')
    ]
  ])('refuses a manifest %s', (_what, change: (m: BundleManifest) => unknown) => {
    const { files, manifest } = honest();
    expectRefused(forge(change(manifest), files), 'BUNDLE_MANIFEST_INVALID');
  });

  it('refuses a file the manifest does not list', () => {
    const { files, manifest } = honest();
    const e = expectRefused(
      forge(manifest, { ...files, 'data/extra.py': encoder.encode('import os') }),
      'BUNDLE_FILE_NOT_IN_MANIFEST'
    );
    expect(e.info.path).toBe('data/extra.py');
  });

  it('refuses a listed file that is missing', () => {
    const { files, manifest } = honest();
    const rest = Object.fromEntries(Object.entries(files).filter(([path]) => path !== 'data/x.csv'));
    expect(expectRefused(forge(manifest, rest), 'BUNDLE_FILE_MISSING').info.path).toBe('data/x.csv');
  });

  it('refuses a file whose size differs from the manifest', () => {
    const { files, manifest } = honest();
    expectRefused(
      forge(manifest, { ...files, 'data/x.csv': encoder.encode('a,b\n1,2\n3,4\n') }),
      'BUNDLE_SIZE_MISMATCH'
    );
  });

  it('refuses a file replaced by other bytes of the same size', () => {
    const { files, manifest } = honest();
    const e = expectRefused(
      forge(manifest, { ...files, 'data/x.csv': encoder.encode('a,b\n1,3\n') }),
      'BUNDLE_HASH_MISMATCH'
    );
    expect(e.info.path).toBe('data/x.csv');
  });

  it('refuses a manifest whose file hash was forged', () => {
    const { files, manifest } = honest();
    manifest.files[0].sha256 = '0x' + 'ab'.repeat(32);
    expectRefused(forge(manifest, files), 'BUNDLE_HASH_MISMATCH');
  });

  it('refuses a forged notebook hash, even when the file entry was updated consistently', () => {
    const { files, manifest, bundle } = honest();
    expectRefused(
      forge({ ...manifest, notebookHash: '0x' + '11'.repeat(32) }, files),
      'BUNDLE_HASH_MISMATCH'
    );
    // Another notebook, with its size and sha256 updated in the manifest but the old notebook hash kept.
    const other = encoder.encode(new TextDecoder().decode(notebook).replace('print(42)', 'print(43)'));
    const forged = createBundle({
      notebookPath: 'nb.ipynb',
      files: new Map(Object.entries({ ...files, 'nb.ipynb': other }))
    }).manifest;
    const e = expectRefused(
      forge({ ...forged, notebookHash: bundle.manifest.notebookHash }, { ...files, 'nb.ipynb': other }),
      'BUNDLE_HASH_MISMATCH'
    );
    expect(e.message).toMatch(/notebook's hash/);
  });

  it('refuses a forged environment hash', () => {
    const { files, manifest } = honest();
    manifest.environment.hash = '0x' + '22'.repeat(32);
    expect(expectRefused(forge(manifest, files), 'BUNDLE_HASH_MISMATCH').message).toMatch(
      /environment's hash/
    );
  });

  it('refuses an environment that hides a refusal or claims another kind', () => {
    const { files, manifest } = honest();
    expectRefused(
      forge({ ...manifest, environment: { ...manifest.environment, refused: [] } }, files),
      'BUNDLE_MANIFEST_INVALID'
    );
    expectRefused(
      forge({ ...manifest, environment: { ...manifest.environment, kind: 'conda' } }, files),
      'BUNDLE_MANIFEST_INVALID'
    );
  });

  it('passes on a malformed environment file inside as ENV_INVALID_FILE', () => {
    const { files, manifest } = honest();
    const bad = encoder.encode('numpy==\n');
    const sha256 = '0x' + createHash('sha256').update(bad).digest('hex');
    const forged = {
      ...manifest,
      files: manifest.files.map(f => (f.path === 'requirements.txt' ? { ...f, size: bad.length, sha256 } : f))
    };
    expectRefused(forge(forged, { ...files, 'requirements.txt': bad }), 'ENV_INVALID_FILE');
  });
});
