/**
 * The bundle manifest (`ain-manifest.json`, DESIGN.md "The data that flows" §1): every file with size and SHA-256,
 * the notebook hash, the environment hash and kind. `bundleHash = sha256(JCS(manifest))`, and the manifest is
 * stored as exactly those JCS bytes, so `sha256sum ain-manifest.json` prints the bundle hash.
 *
 * The manifest is a pure function of the bundle's files (`buildManifest`); readers rebuild it and accept a bundle
 * only when it is identical. Changing what goes into it (or the notebook or environment rules) needs a new format.
 */
import { canonicalHash, canonicalJson } from './canonical-json.js';
import {
  detectEnvironment,
  EnvironmentKind,
  EnvironmentRoot,
  IgnoredRule,
  RefusalRule
} from './environment.js';
import { MANIFEST_NAME } from './bundle-paths.js';
import { assert, makeError } from './errors.js';
import { fromUtf8, Hex32, isHex32, sha256 } from './hash.js';
import { notebookHash } from './notebook.js';

/** The format tag of this manifest layout. */
export const BUNDLE_FORMAT = 'ain-bundle/1';

/** One file of the bundle. */
export interface BundleFile {
  path: string;
  size: number;
  sha256: Hex32;
}

/** The environment as detected from the bundle's files: its kind and hash, and what a provider will refuse. */
export interface BundleEnvironment {
  kind: EnvironmentKind;
  root: EnvironmentRoot;
  hash: Hex32;
  /** The environment files that count, sorted. */
  files: string[];
  /** `major.minor`, or null for the provider's default Python 3. */
  python: string | null;
  refused: Array<{ file: string; rule: RefusalRule; line?: number }>;
  ignored: Array<{ file: string; rule: IgnoredRule }>;
}

/** The content of `ain-manifest.json`. */
export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  /** Path of the notebook inside the bundle. */
  notebook: string;
  notebookHash: Hex32;
  environment: BundleEnvironment;
  /** Every file but the manifest, sorted by path (UTF-16 code units, as JCS sorts keys). */
  files: BundleFile[];
}

/** What a reader accepts; the writer checks the same limits so that it never writes a bundle readers refuse. */
export interface BundleLimits {
  /** Sum of the uncompressed sizes of all entries, in bytes. */
  maxTotalSize: number;
  /** Number of zip entries, the manifest included. */
  maxFiles: number;
  /** Uncompressed size of one entry, in bytes. */
  maxFileSize: number;
  /** Uncompressed / compressed size of one entry; entries up to RATIO_EXEMPT_SIZE are exempt. */
  maxCompressionRatio: number;
  /** Length of a path in UTF-8 bytes. */
  maxPathLength: number;
}

/**
 * The default limits: 256 MiB in all, 100 MiB a file (GitHub's own limit), 2,000 entries, a compression ratio of
 * 100 (what Apache POI and Commons Compress accept; honest data rarely passes 20, a deflate bomb reaches 1,000),
 * paths of 255 bytes (a file name's limit on most file systems).
 */
export const DEFAULT_BUNDLE_LIMITS: Readonly<BundleLimits> = Object.freeze({
  maxTotalSize: 256 * 1024 * 1024,
  maxFiles: 2000,
  maxFileSize: 100 * 1024 * 1024,
  maxCompressionRatio: 100,
  maxPathLength: 255
});

/** Entries this small are not held to the compression ratio: a tiny file of repeated bytes is no bomb. */
export const RATIO_EXEMPT_SIZE = 1024 * 1024;

/** The limits in force: the defaults overridden by `limits`, each a positive whole number. */
export function bundleLimits(limits: Partial<BundleLimits> = {}): BundleLimits {
  const merged = { ...DEFAULT_BUNDLE_LIMITS, ...limits };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new TypeError(`Bundle limit ${name} must be a positive whole number, got ${value}.`);
    }
  }
  return merged;
}

/** Builds the manifest of `files` (the manifest itself excluded); the notebook must be among them. */
export function buildManifest(notebookPath: string, files: ReadonlyMap<string, Uint8Array>): BundleManifest {
  const notebook = files.get(notebookPath);
  assert(
    notebook !== undefined,
    'BUNDLE_FILE_MISSING',
    `The notebook ${notebookPath} is not among the bundle's files; pass its bytes under that path.`,
    { path: notebookPath }
  );
  const env = detectEnvironment(files);
  return {
    format: BUNDLE_FORMAT,
    notebook: notebookPath,
    notebookHash: notebookHash(notebook),
    environment: {
      kind: env.kind,
      root: env.root,
      hash: env.environmentHash,
      files: env.files,
      python: env.install.python,
      refused: env.refused.map(r => ({
        file: r.file,
        rule: r.rule,
        ...(r.line === undefined ? {} : { line: r.line })
      })),
      ignored: env.ignored.map(i => ({ file: i.file, rule: i.rule }))
    },
    files: [...files.keys()]
      .sort()
      .map(path => ({ path, size: files.get(path)!.length, sha256: sha256(files.get(path)!) }))
  };
}

/** `sha256(JCS(manifest))`: the bundle hash. */
export function bundleHashOf(manifest: BundleManifest): Hex32 {
  return canonicalHash(manifest);
}

/**
 * Parses the bytes of `ain-manifest.json`: UTF-8 canonical JSON (RFC 8785) of a manifest of this format.
 * Throws BUNDLE_MANIFEST_INVALID naming what is wrong. Whether it matches the files is `readBundle`'s part.
 */
export function parseManifest(bytes: Uint8Array): BundleManifest {
  let text: string;
  let value: unknown;
  try {
    text = fromUtf8(bytes);
    value = JSON.parse(text);
  } catch (e) {
    throw Private.invalid(`it is not UTF-8 JSON (${(e as Error).message})`);
  }
  const m = value as BundleManifest;
  Private.check(
    Private.isObject(m, ['format', 'notebook', 'notebookHash', 'environment', 'files']),
    'it is not an object of format, notebook, notebookHash, environment and files'
  );
  Private.check(
    m.format === BUNDLE_FORMAT,
    `its format is ${JSON.stringify(m.format)}, not ${BUNDLE_FORMAT} (made by another version of jupyterlab-ain?)`
  );
  Private.check(
    typeof m.notebook === 'string' && isHex32(m.notebookHash),
    'notebook must be a path and notebookHash a 0x-prefixed sha256'
  );
  Private.check(Array.isArray(m.files), 'files must be a list');
  m.files.forEach((f, i) => {
    Private.check(
      Private.isObject(f, ['path', 'size', 'sha256']) &&
        typeof f.path === 'string' &&
        Number.isSafeInteger(f.size) &&
        f.size >= 0 &&
        isHex32(f.sha256),
      `files[${i}] must be { path, size, sha256 }`
    );
    Private.check(
      i === 0 || m.files[i - 1].path < f.path,
      `files must be sorted by path without repeats (at ${f.path})`
    );
  });
  Private.check(
    m.files.some(f => f.path === m.notebook),
    `the notebook ${m.notebook} is not among the files`
  );
  const env = m.environment;
  Private.check(
    Private.isObject(env, ['kind', 'root', 'hash', 'files', 'python', 'refused', 'ignored']) &&
      isHex32(env.hash) &&
      Array.isArray(env.files) &&
      Array.isArray(env.refused) &&
      Array.isArray(env.ignored),
    'environment must be { kind, root, hash, files, python, refused, ignored }'
  );
  Private.check(
    text === Private.canonicalOrNull(value),
    'it is not written in canonical JSON (RFC 8785), the only form its hash is defined over'
  );
  return m;
}

namespace Private {
  export function isObject(value: unknown, keys: string[]): boolean {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return false;
    }
    const own = Object.keys(value).sort();
    return own.length === keys.length && [...keys].sort().every((k, i) => own[i] === k);
  }

  export function invalid(why: string) {
    return makeError(
      'BUNDLE_MANIFEST_INVALID',
      `The bundle's ${MANIFEST_NAME} is invalid: ${why}. Re-create the bundle with \`ain pack\`.`
    );
  }

  /** JCS of a parsed value, or null for values JCS refuses (1e400 parses as Infinity). */
  export function canonicalOrNull(value: unknown): string | null {
    try {
      return canonicalJson(value);
    } catch {
      return null;
    }
  }

  export function check(condition: unknown, why: string): asserts condition {
    if (!condition) {
      throw invalid(why);
    }
  }
}
