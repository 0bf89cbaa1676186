/**
 * Writes a bundle (`.ainb`): a zip made by fflate of `ain-manifest.json` and the notebook's files.
 *
 * Deterministic, so that the same files give the same bytes on every machine and in every order: entries sorted by
 * path after the manifest, a fixed timestamp, fixed Unix attributes, one compression level (fflate is pinned in
 * package.json, and its deflate is pure JavaScript). The bundle hash never depends on the zip bytes anyway: it is
 * the hash of the manifest.
 */
import { zipSync, Zippable, ZipOptions } from 'fflate';
import {
  BundleLimits,
  BundleManifest,
  RATIO_EXEMPT_SIZE,
  buildManifest,
  bundleHashOf,
  bundleLimits
} from './bundle-manifest.js';
import { MANIFEST_NAME, checkBundlePath, checkPathSet, collisionKey } from './bundle-paths.js';
import { readZipDirectory } from './bundle-zip.js';
import { canonicalBytes } from './canonical-json.js';
import { assert, makeError } from './errors.js';
import { Hex32 } from './hash.js';

/** What to bundle: the notebook's path and every file (notebook, environment files, data), by POSIX path. */
export interface BundleInput {
  notebookPath: string;
  files: ReadonlyMap<string, Uint8Array>;
}

/** A written bundle. */
export interface Bundle {
  bytes: Uint8Array;
  manifest: BundleManifest;
  bundleHash: Hex32;
}

/**
 * Writes the bundle of `files`. Refuses, with the reader's error codes, whatever a reader with the same `limits`
 * would refuse: unsafe or colliding paths, too many or too large files. Environment and notebook errors
 * (ENV_*, NOTEBOOK_*) come from detection and the notebook hash.
 */
export function createBundle(
  { notebookPath, files }: BundleInput,
  limits: Partial<BundleLimits> = {}
): Bundle {
  const max = bundleLimits(limits);
  const paths = [...files.keys()].sort();
  Private.checkInput(paths, files, max);
  const manifest = buildManifest(notebookPath, files);
  const manifestBytes = canonicalBytes(manifest);
  let bytes = Private.zip(manifestBytes, paths, files, new Set());
  // Deflate may compress a file past the ratio readers accept (a large file of zeros): store those as they are.
  const stored = new Set(
    readZipDirectory(bytes, max.maxFiles)
      .filter(
        e => e.size > RATIO_EXEMPT_SIZE && e.size / Math.max(e.compressedSize, 1) > max.maxCompressionRatio
      )
      .map(e => e.name)
  );
  if (stored.size) {
    bytes = Private.zip(manifestBytes, paths, files, stored);
  }
  return { bytes, manifest, bundleHash: bundleHashOf(manifest) };
}

namespace Private {
  // A regular file, rw-r--r--, made on Unix: what unzip tools restore, and never a link or an executable.
  const OPTIONS: ZipOptions = { level: 6, os: 3, attrs: 0o100644 << 16 };

  export function checkInput(
    paths: string[],
    files: ReadonlyMap<string, Uint8Array>,
    max: BundleLimits
  ): void {
    if (paths.length + 1 > max.maxFiles) {
      throw makeError(
        'BUNDLE_TOO_MANY_FILES',
        `${paths.length} files and the manifest are more than the limit of ${max.maxFiles} entries. Bundle fewer files (zip a folder of many small files into one data file).`,
        { count: paths.length + 1, limit: max.maxFiles }
      );
    }
    let total = 0;
    for (const path of paths) {
      checkBundlePath(path, max.maxPathLength);
      // fflate collects entries in a plain object, where this one name would set the prototype instead.
      assert(
        collisionKey(path) !== collisionKey(MANIFEST_NAME) && path !== '__proto__',
        'BUNDLE_INVALID_PATH',
        `The name "${path}" is reserved in bundles. Rename the file and pack again.`,
        { path }
      );
      const size = files.get(path)!.length;
      if (size > max.maxFileSize) {
        throw makeError(
          'BUNDLE_FILE_TOO_LARGE',
          `${path} has ${size} bytes, more than the limit of ${max.maxFileSize} for one file. Leave large data out of the bundle and have the notebook download it.`,
          { path, size, limit: max.maxFileSize }
        );
      }
      total += size;
    }
    if (total > max.maxTotalSize) {
      throw makeError(
        'BUNDLE_TOO_LARGE',
        `The files add up to ${total} bytes, more than the limit of ${max.maxTotalSize}. Leave large data out of the bundle and have the notebook download it.`,
        { size: total, limit: max.maxTotalSize }
      );
    }
    checkPathSet(paths);
  }

  /** The zip: manifest first, then the files in path order (`stored` ones uncompressed). */
  export function zip(
    manifest: Uint8Array,
    paths: string[],
    files: ReadonlyMap<string, Uint8Array>,
    stored: Set<string>
  ): Uint8Array {
    // A null-prototype object keeps insertion order for every name but integer-like ones (`2024`), which
    // JavaScript lists first; harmless, since readers go by the central directory, not by entry order.
    const entries = Object.create(null) as Zippable;
    entries[MANIFEST_NAME] = manifest;
    for (const path of paths) {
      entries[path] = stored.has(path) ? [files.get(path)!, { level: 0 }] : files.get(path)!;
    }
    // fflate writes DOS times from the local-time fields of mtime, so build it from local fields at each call:
    // 1980-01-01 (the first day DOS can represent) at noon (midnight may not exist where DST starts) gives the
    // same bytes in every time zone, even if the zone changes while the process runs.
    return zipSync(entries, { ...OPTIONS, mtime: new Date(1980, 0, 1, 12, 0, 0) });
  }
}
