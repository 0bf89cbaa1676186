/**
 * Reads a bundle that anyone may have written, as a provider or a verifier does before trusting a byte of it.
 *
 * In order, each failure a typed error that names the rule: the zip's structure (from the central directory);
 * every entry's path (no absolute path, no `..`, nothing Windows or macOS would mangle), kind (no symlink or other
 * special file), name (no duplicates, also after case folding) and declared size against the limits, all before
 * inflating anything; then the manifest; then the set of files against it; then each file, inflated under its
 * declared size (a zip bomb stops there, however small it claims to be) and checked against its size and SHA-256;
 * and last, the manifest rebuilt from the files must be the manifest given: notebook hash, environment and all.
 */
import {
  BundleLimits,
  BundleManifest,
  RATIO_EXEMPT_SIZE,
  buildManifest,
  bundleHashOf,
  bundleLimits,
  parseManifest
} from './bundle-manifest.js';
import { MANIFEST_NAME, checkBundlePath, checkPathSet } from './bundle-paths.js';
import { ZipEntry, inflateEntry, readZipDirectory } from './bundle-zip.js';
import { canonicalJson } from './canonical-json.js';
import { makeError } from './errors.js';
import { Hex32, sha256 } from './hash.js';

export { DEFAULT_BUNDLE_LIMITS } from './bundle-manifest.js';

/** A bundle that passed every check. */
export interface ReadBundle {
  manifest: BundleManifest;
  /** Every file but the manifest, by path, in path order. */
  files: Map<string, Uint8Array>;
  bundleHash: Hex32;
}

/**
 * Reads and verifies a bundle under `limits` (DEFAULT_BUNDLE_LIMITS where not given). Throws an AinError whose
 * code names the failed rule (BUNDLE_*; NOTEBOOK_* or ENV_* when the notebook or an environment file inside is
 * malformed).
 */
export function readBundle(bytes: Uint8Array, limits: Partial<BundleLimits> = {}): ReadBundle {
  const max = bundleLimits(limits);
  // Headers take at most 76 bytes plus the name twice an entry; deflate adds a little to incompressible data.
  const slack = max.maxFiles * (76 + 2 * max.maxPathLength) + Math.ceil(max.maxTotalSize / 1000) + 65536;
  if (bytes.length > max.maxTotalSize + slack) {
    throw Private.tooLarge(bytes.length, max);
  }
  const entries = readZipDirectory(bytes, max.maxFiles);
  const fileEntries = Private.checkEntries(entries, max);
  const manifestEntry = fileEntries.get(MANIFEST_NAME);
  if (!manifestEntry) {
    throw makeError(
      'BUNDLE_MANIFEST_MISSING',
      `The zip has no ${MANIFEST_NAME}, so it is not a bundle (or not a complete one). Create bundles with \`ain pack\`.`
    );
  }
  fileEntries.delete(MANIFEST_NAME);
  const manifest = parseManifest(
    inflateEntry(bytes, manifestEntry, manifestEntry.size, n => Private.overflow(manifestEntry, n))
  );
  const listed = new Map(manifest.files.map(f => [f.path, f]));
  for (const path of fileEntries.keys()) {
    if (!listed.has(path)) {
      throw makeError(
        'BUNDLE_FILE_NOT_IN_MANIFEST',
        `The bundle holds ${path}, which its manifest does not list: refusing a file nobody vouched for. Re-create the bundle with \`ain pack\`.`,
        { path }
      );
    }
  }
  const files = new Map<string, Uint8Array>();
  for (const expected of manifest.files) {
    const entry = fileEntries.get(expected.path);
    if (!entry) {
      throw makeError(
        'BUNDLE_FILE_MISSING',
        `The manifest lists ${expected.path}, which the bundle does not hold. Re-create the bundle with \`ain pack\`.`,
        { path: expected.path }
      );
    }
    if (entry.size !== expected.size) {
      throw Private.sizeMismatch(expected.path, expected.size, entry.size);
    }
    const data = inflateEntry(bytes, entry, entry.size, n => Private.overflow(entry, n));
    if (data.length !== expected.size) {
      throw Private.sizeMismatch(expected.path, expected.size, data.length);
    }
    const digest = sha256(data);
    if (digest !== expected.sha256) {
      throw Private.hashMismatch(
        `${expected.path} has the SHA-256 ${digest}, not ${expected.sha256} as the manifest says`,
        { path: expected.path }
      );
    }
    files.set(expected.path, data);
  }
  Private.checkDerived(manifest, files);
  return { manifest, files, bundleHash: bundleHashOf(manifest) };
}

namespace Private {
  const S_IFMT = 0o170000;
  const S_IFLNK = 0o120000;
  const S_IFREG = 0o100000;
  const S_IFDIR = 0o040000;
  const DOS_DIRECTORY = 0x10;
  const DOS_REPARSE_POINT = 0x400; // how Windows marks its symbolic links and junctions

  /** Path, kind, name and size rules of every entry, before anything is inflated. Returns the files by name. */
  export function checkEntries(entries: ZipEntry[], max: BundleLimits): Map<string, ZipEntry> {
    const files = new Map<string, ZipEntry>();
    const folders: string[] = [];
    let total = 0;
    for (const entry of entries) {
      const mode = entry.externalAttributes >>> 16;
      const type = mode & S_IFMT;
      const isDirectory = entry.name.endsWith('/');
      checkBundlePath(isDirectory ? entry.name.slice(0, -1) : entry.name, max.maxPathLength);
      if (type === S_IFLNK || entry.externalAttributes & DOS_REPARSE_POINT) {
        throw makeError(
          'BUNDLE_LINK',
          `The bundle entry ${entry.name} is a symbolic link, which could point anywhere once unpacked. Bundles hold regular files only: pack the file itself.`,
          { path: entry.name }
        );
      }
      if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
        throw makeError(
          'BUNDLE_INVALID_PATH',
          `The bundle entry ${entry.name} is a device, pipe or socket, not a file.`,
          { path: entry.name }
        );
      }
      if (isDirectory || type === S_IFDIR || entry.externalAttributes & DOS_DIRECTORY) {
        // Folders are implied by file paths; an explicit folder entry must be empty and is otherwise skipped.
        if (!isDirectory || entry.size !== 0) {
          throw makeError(
            'BUNDLE_INVALID_PATH',
            `The bundle entry ${entry.name} is marked as a folder but is not an empty folder entry.`,
            { path: entry.name }
          );
        }
        folders.push(entry.name.slice(0, -1));
        continue;
      }
      if (files.has(entry.name)) {
        throw makeError(
          'BUNDLE_DUPLICATE_NAME',
          `The bundle holds ${entry.name} twice, and unzip tools disagree on which copy wins. Refusing it.`,
          { path: entry.name }
        );
      }
      if (entry.size > max.maxFileSize) {
        throw makeError(
          'BUNDLE_FILE_TOO_LARGE',
          `The bundle entry ${entry.name} declares ${entry.size} bytes, more than the limit of ${max.maxFileSize} for one file. Refusing it before inflating anything.`,
          { path: entry.name, size: entry.size, limit: max.maxFileSize }
        );
      }
      total += entry.size;
      if (total > max.maxTotalSize) {
        throw tooLarge(total, max);
      }
      const ratio = entry.size / Math.max(entry.compressedSize, 1);
      if (entry.size > RATIO_EXEMPT_SIZE && ratio > max.maxCompressionRatio) {
        throw makeError(
          'BUNDLE_COMPRESSION_RATIO',
          `The bundle entry ${entry.name} would inflate ${Math.round(ratio)} times (${entry.compressedSize} to ${entry.size} bytes), more than the limit of ${max.maxCompressionRatio}: the signature of a zip bomb. Refusing it before inflating anything.`,
          { path: entry.name, ratio, limit: max.maxCompressionRatio }
        );
      }
      files.set(entry.name, entry);
    }
    checkPathSet(files.keys(), folders);
    return files;
  }

  /** Everything derived from the files must be what the manifest says: notebook hash, environment, all of it. */
  export function checkDerived(manifest: BundleManifest, files: Map<string, Uint8Array>): void {
    const expected = buildManifest(manifest.notebook, files);
    if (expected.notebookHash !== manifest.notebookHash) {
      throw hashMismatch(
        `the notebook's hash is ${expected.notebookHash}, not ${manifest.notebookHash} as the manifest says`,
        { path: manifest.notebook }
      );
    }
    if (expected.environment.hash !== manifest.environment.hash) {
      throw hashMismatch(
        `the environment's hash is ${expected.environment.hash}, not ${manifest.environment.hash} as the manifest says`,
        {}
      );
    }
    if (canonicalJson(expected) !== canonicalJson(manifest)) {
      throw makeError(
        'BUNDLE_MANIFEST_INVALID',
        `The manifest's environment does not match the bundle's files (detected ${canonicalJson(expected.environment)}). Re-create the bundle with \`ain pack\`.`
      );
    }
  }

  export function tooLarge(size: number, max: BundleLimits) {
    return makeError(
      'BUNDLE_TOO_LARGE',
      `The bundle holds at least ${size} bytes, more than the limit of ${max.maxTotalSize}. Refusing it before inflating anything; leave large data out of bundles.`,
      { size, limit: max.maxTotalSize }
    );
  }

  export function overflow(entry: ZipEntry, inflated: number) {
    return makeError(
      'BUNDLE_SIZE_MISMATCH',
      `The bundle entry ${entry.name} inflates past the ${entry.size} bytes it declares (stopped at ${inflated}): a corrupt zip or a zip bomb. Refusing it.`,
      { path: entry.name, declared: entry.size, inflated }
    );
  }

  export function sizeMismatch(path: string, expected: number, actual: number) {
    return makeError(
      'BUNDLE_SIZE_MISMATCH',
      `${path} has ${actual} bytes, not ${expected} as the manifest says. The bundle was altered or corrupted: re-create it with \`ain pack\`.`,
      { path, expected, actual }
    );
  }

  export function hashMismatch(what: string, info: Record<string, unknown>) {
    return makeError(
      'BUNDLE_HASH_MISMATCH',
      `In this bundle ${what}: it was altered or corrupted. Re-create it with \`ain pack\`.`,
      info
    );
  }
}
