import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { DEFAULT_BUNDLE_LIMITS, readBundle } from './bundle-reader.js';
import { createBundle } from './bundle-writer.js';
import { readZipDirectory } from './bundle-zip.js';
import { BundleManifest } from './bundle-manifest.js';
import { AinErrorCode, isAinError } from './errors.js';
import { notebookHash } from './notebook.js';

const encoder = new TextEncoder();
const hex = (data: Uint8Array | string) => '0x' + createHash('sha256').update(data).digest('hex');

/** RFC 8785 for what manifests hold (ASCII strings, safe integers, null, lists, objects), written independently. */
function jcs(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(jcs).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${jcs(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const notebook = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' }, language_info: { name: 'python' } },
  cells: [
    {
      cell_type: 'code',
      id: 'a',
      metadata: {},
      execution_count: 1,
      outputs: [],
      source: ['import pandas\n', 'x = 1']
    }
  ]
});

function input(): Record<string, Uint8Array> {
  return {
    'analysis.ipynb': encoder.encode(notebook),
    'requirements.txt': encoder.encode('pandas==2.2.0\n'),
    'apt.txt': encoder.encode('curl\n'),
    'data/iris.csv': encoder.encode('sepal,petal\n5.1,1.4\n'),
    'data/raw/b.bin': new Uint8Array([0, 1, 2, 255])
  };
}

const mapOf = (entries: Record<string, Uint8Array>, order: string[] = Object.keys(entries)) =>
  new Map(order.map(k => [k, entries[k]]));

function expectCode(fn: () => unknown, code: AinErrorCode) {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(isAinError(error) ? error.code : error).toBe(code);
  return error as { message: string; info: Record<string, unknown> };
}

describe('createBundle', () => {
  it('writes a manifest of every file, the notebook hash and the environment', () => {
    const files = input();
    const { manifest, bundleHash } = createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(files) });
    expect(manifest.format).toBe('ain-bundle/1');
    expect(manifest.notebook).toBe('analysis.ipynb');
    expect(manifest.notebookHash).toBe(notebookHash(files['analysis.ipynb']));
    expect(manifest.files).toEqual(
      Object.keys(files)
        .sort()
        .map(path => ({ path, size: files[path].length, sha256: hex(files[path]) }))
    );
    const envHash = hex(
      jcs(['apt.txt', 'requirements.txt'].map(path => ({ path, sha256: hex(files[path]) })))
    );
    expect(manifest.environment).toEqual({
      kind: 'python',
      root: '',
      hash: envHash,
      files: ['apt.txt', 'requirements.txt'],
      python: null,
      refused: [{ file: 'apt.txt', rule: 'apt' }],
      ignored: []
    });
    expect(bundleHash).toBe(hex(jcs(manifest)));
  });

  it('stores the manifest first, as the canonical bytes whose sha256 is the bundle hash', () => {
    const { bytes, bundleHash } = createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(input()) });
    const entries = readZipDirectory(bytes, 100);
    expect(entries.map(e => e.name)).toEqual([
      'ain-manifest.json',
      'analysis.ipynb',
      'apt.txt',
      'data/iris.csv',
      'data/raw/b.bin',
      'requirements.txt'
    ]);
    const unzipped = unzipSync(bytes); // another reader agrees on the content
    expect(hex(unzipped['ain-manifest.json'])).toBe(bundleHash);
    expect(unzipped['data/raw/b.bin']).toEqual(new Uint8Array([0, 1, 2, 255]));
  });

  it('marks every entry as a regular rw-r--r-- Unix file, deflated, with the same fixed date', () => {
    const { bytes } = createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(input()) });
    for (const entry of readZipDirectory(bytes, 100)) {
      expect(entry.madeBy).toBe(3);
      expect(entry.externalAttributes >>> 16).toBe(0o100644);
      expect(entry.method).toBe(8);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    // DOS time and date of the first local header: 12:00:00 on 1980-01-01.
    expect([view.getUint16(10, true), view.getUint16(12, true)]).toEqual([12 << 11, (1 << 5) | 1]);
  });

  it('gives the same bytes and hash for any insertion order, and every time', () => {
    const files = input();
    const a = createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(files) });
    const b = createBundle({
      notebookPath: 'analysis.ipynb',
      files: mapOf(files, Object.keys(files).reverse())
    });
    const c = createBundle({
      notebookPath: 'analysis.ipynb',
      files: mapOf(files, [
        'data/raw/b.bin',
        'analysis.ipynb',
        'requirements.txt',
        'data/iris.csv',
        'apt.txt'
      ])
    });
    expect(b.bytes).toEqual(a.bytes);
    expect(c.bytes).toEqual(a.bytes);
    expect(b.bundleHash).toBe(a.bundleHash);
    expect(createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(files) }).bytes).toEqual(a.bytes);
  });

  it('gives the same bytes in every time zone', () => {
    // process.env.TZ set inside jest does not reach the clock, so each zone runs the writer in its own Node,
    // with TypeScript turned into CommonJS on the fly (and `./x.js` imports resolved to `./x.ts`).
    const script = `
      const fs = require('node:fs'), Module = require('node:module'), ts = require('typescript');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        try { return resolve.call(this, request, ...rest); }
        catch (e) { if (request.endsWith('.js')) return resolve.call(this, request.slice(0, -3) + '.ts', ...rest); throw e; }
      };
      require.extensions['.ts'] = (module, file) => module._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'),
        { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);
      const { createBundle } = require(${JSON.stringify(join(__dirname, 'bundle-writer.ts'))});
      const files = new Map(Object.entries(JSON.parse(process.argv[1])).map(([p, b]) => [p, new Uint8Array(Buffer.from(b, 'base64'))]));
      const { bytes } = createBundle({ notebookPath: 'analysis.ipynb', files });
      process.stdout.write(require('node:crypto').createHash('sha256').update(bytes).digest('hex'));`;
    const argument = JSON.stringify(
      Object.fromEntries(Object.entries(input()).map(([p, b]) => [p, Buffer.from(b).toString('base64')]))
    );
    const zones = ['UTC', 'Pacific/Kiritimati', 'America/St_Johns', 'Asia/Kathmandu'].map(TZ => {
      const child = spawnSync(process.execPath, ['-e', script, argument], {
        env: { ...process.env, TZ },
        encoding: 'utf8'
      });
      expect(child.stderr).toBe('');
      return '0x' + child.stdout;
    });
    const here = hex(createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(input()) }).bytes);
    expect(zones).toEqual([here, here, here, here]);
  });

  it('changes the bundle hash when one byte of a data file changes', () => {
    const files = input();
    const before = createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(files) });
    const changed = new Uint8Array(files['data/raw/b.bin']);
    changed[3] ^= 1;
    const after = createBundle({
      notebookPath: 'analysis.ipynb',
      files: mapOf({ ...files, 'data/raw/b.bin': changed })
    });
    expect(after.bundleHash).not.toBe(before.bundleHash);
    expect(after.manifest.notebookHash).toBe(before.manifest.notebookHash);
    expect(after.manifest.environment).toEqual(before.manifest.environment);
  });

  it('reads back to the same manifest, files and hash', () => {
    const files = input();
    const bundle = createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(files) });
    const read = readBundle(bundle.bytes);
    expect(read.bundleHash).toBe(bundle.bundleHash);
    expect(read.manifest).toEqual(bundle.manifest);
    expect(Object.fromEntries(read.files)).toEqual(files);
  });

  it('stores a file that deflate would compress past the ratio readers accept, so that they accept it', () => {
    const files = { ...input(), 'data/zeros.npy': new Uint8Array(2 * 1024 * 1024) };
    const bundle = createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(files) });
    const methods = Object.fromEntries(readZipDirectory(bundle.bytes, 100).map(e => [e.name, e.method]));
    expect(methods['data/zeros.npy']).toBe(0);
    expect(methods['data/iris.csv']).toBe(8);
    expect(hex(readBundle(bundle.bytes).files.get('data/zeros.npy')!)).toBe(hex(files['data/zeros.npy'])); // toEqual on 2 MiB is slow
  });

  it('keeps names that JavaScript objects reorder or treat specially', () => {
    const files = {
      ...input(),
      '2024': encoder.encode('year'),
      constructor: encoder.encode('c'),
      'données/é.txt': encoder.encode('x')
    };
    const bundle = createBundle({ notebookPath: 'analysis.ipynb', files: mapOf(files) });
    expect(Object.fromEntries(readBundle(bundle.bytes).files)).toEqual(files);
  });

  it.each([
    ['the notebook is not among the files', { notebookPath: 'missing.ipynb' }, 'BUNDLE_FILE_MISSING'],
    ['a path climbs out', { extra: '../secret.txt' }, 'BUNDLE_PATH_TRAVERSAL'],
    ['a path is absolute', { extra: '/etc/passwd' }, 'BUNDLE_ABSOLUTE_PATH'],
    ['a path has a drive letter', { extra: 'C:\\data.csv' }, 'BUNDLE_ABSOLUTE_PATH'],
    ['a path uses backslashes', { extra: 'data\\x.csv' }, 'BUNDLE_INVALID_PATH'],
    ['a path is a Windows device', { extra: 'data/aux.csv' }, 'BUNDLE_INVALID_PATH'],
    ['a path takes the manifest name', { extra: 'AIN-MANIFEST.json' }, 'BUNDLE_INVALID_PATH'],
    ['a path is __proto__', { extra: '__proto__' }, 'BUNDLE_INVALID_PATH'],
    ['two paths differ only in case', { extra: 'DATA/iris.csv' }, 'BUNDLE_DUPLICATE_NAME'],
    [
      'two paths differ only in Unicode form',
      { extra: 'data/raw/b.bin', also: ['café.txt', 'cafe\u0301.txt'] },
      'BUNDLE_DUPLICATE_NAME'
    ],
    ['a file is also a folder', { extra: 'data/iris.csv/x' }, 'BUNDLE_DUPLICATE_NAME']
  ])(
    'refuses input where %s',
    (_what, change: { notebookPath?: string; extra?: string; also?: string[] }, code) => {
      const files = mapOf(input());
      for (const path of [change.extra, ...(change.also ?? [])]) {
        if (path) {
          files.set(path, encoder.encode('x'));
        }
      }
      expectCode(
        () => createBundle({ notebookPath: change.notebookPath ?? 'analysis.ipynb', files }),
        code as AinErrorCode
      );
    }
  );

  it('refuses input over the limits a reader would apply', () => {
    const files = mapOf(input());
    expectCode(
      () => createBundle({ notebookPath: 'analysis.ipynb', files }, { maxFiles: 5 }),
      'BUNDLE_TOO_MANY_FILES'
    );
    expectCode(
      () => createBundle({ notebookPath: 'analysis.ipynb', files }, { maxFileSize: 100 }),
      'BUNDLE_FILE_TOO_LARGE'
    );
    expectCode(
      () => createBundle({ notebookPath: 'analysis.ipynb', files }, { maxTotalSize: 300 }),
      'BUNDLE_TOO_LARGE'
    );
    expectCode(
      () => createBundle({ notebookPath: 'analysis.ipynb', files }, { maxPathLength: 10 }),
      'BUNDLE_INVALID_PATH'
    );
    expect(() => createBundle({ notebookPath: 'analysis.ipynb', files }, { maxFiles: 0 })).toThrow(TypeError);
    expect(
      createBundle({ notebookPath: 'analysis.ipynb', files }, { maxFiles: 6 }).manifest.files
    ).toHaveLength(5);
  });

  it('passes on notebook and environment errors', () => {
    const files = mapOf(input());
    files.set('analysis.ipynb', encoder.encode('{not json'));
    expectCode(() => createBundle({ notebookPath: 'analysis.ipynb', files }), 'NOTEBOOK_INVALID_JSON');
    const envs = mapOf(input());
    envs.set('binder/requirements.txt', encoder.encode('x\n'));
    envs.set('.binder/requirements.txt', encoder.encode('x\n'));
    expectCode(
      () => createBundle({ notebookPath: 'analysis.ipynb', files: envs }),
      'ENV_CONFLICTING_BINDER_FOLDERS'
    );
  });

  it('exports explicit default limits', () => {
    expect(DEFAULT_BUNDLE_LIMITS).toEqual({
      maxTotalSize: 256 * 1024 * 1024,
      maxFiles: 2000,
      maxFileSize: 100 * 1024 * 1024,
      maxCompressionRatio: 100,
      maxPathLength: 255
    });
    expect(Object.isFrozen(DEFAULT_BUNDLE_LIMITS)).toBe(true);
  });
});

describe('shared vectors (tests/vectors/bundles.json)', () => {
  interface Vector {
    name: string;
    notebookPath: string;
    text: Record<string, string>;
    base64: Record<string, string>;
    manifest: BundleManifest;
    bundleHash: string;
  }
  const { bundles }: { bundles: Vector[] } = JSON.parse(
    readFileSync(join(__dirname, '../../tests/vectors/bundles.json'), 'utf8')
  );
  const filesOf = (v: Vector) =>
    new Map<string, Uint8Array>([
      ...Object.entries(v.text).map(([p, t]): [string, Uint8Array] => [p, encoder.encode(t)]),
      ...Object.entries(v.base64).map(([p, b]): [string, Uint8Array] => [
        p,
        new Uint8Array(Buffer.from(b, 'base64'))
      ])
    ]);

  it.each(bundles.map(v => [v.name, v]))(
    '%s: the vector is right, computed independently',
    (_name, v: Vector) => {
      const files = filesOf(v);
      expect(hex(jcs(v.manifest))).toBe(v.bundleHash);
      expect(v.manifest.files).toEqual(
        [...files.keys()]
          .sort()
          .map(path => ({ path, size: files.get(path)!.length, sha256: hex(files.get(path)!) }))
      );
      const env = v.manifest.environment;
      expect(env.hash).toBe(hex(jcs(env.files.map(path => ({ path, sha256: hex(files.get(path)!) })))));
      expect(v.manifest.notebookHash).toBe(notebookHash(files.get(v.notebookPath)!)); // vectors/notebooks.json covers it
    }
  );

  it.each(bundles.map(v => [v.name, v]))(
    '%s: createBundle and readBundle give the vector',
    (_name, v: Vector) => {
      const bundle = createBundle({ notebookPath: v.notebookPath, files: filesOf(v) });
      expect(bundle.manifest).toEqual(v.manifest);
      expect(bundle.bundleHash).toBe(v.bundleHash);
      expect(readBundle(bundle.bytes).bundleHash).toBe(v.bundleHash);
    }
  );
});
