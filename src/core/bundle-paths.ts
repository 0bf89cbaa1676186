/**
 * The path rules of bundles, shared by the writer (so it never writes what a reader refuses) and the reader (so a
 * hostile zip cannot write outside its folder or collide on another operating system when it is unpacked).
 *
 * A bundle path is relative, POSIX (`/` only), made of segments that every common file system can hold: no `..`,
 * no `.`, no empty segment, no control or Windows-reserved characters, no Windows device names, no trailing dot or
 * space, at most `maxPathLength` UTF-8 bytes; and no two paths may be the same after case folding and Unicode
 * normalization (they would collide on macOS and Windows), nor may a file stand where another path needs a folder.
 */
import { makeError } from './errors.js';
import { utf8 } from './hash.js';

/** The manifest's name, at the top of every bundle; no file of the bundle may take it. */
export const MANIFEST_NAME = 'ain-manifest.json';

const WINDOWS_DEVICE = /^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(?:\..*)?$/i;
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f<>:"|?*]/;

/**
 * Throws BUNDLE_ABSOLUTE_PATH, BUNDLE_PATH_TRAVERSAL or BUNDLE_INVALID_PATH unless `path` is a safe relative
 * bundle path.
 */
export function checkBundlePath(path: string, maxPathLength: number): void {
  const info = { path };
  if (/^[/\\]|^[A-Za-z]:/.test(path)) {
    throw makeError(
      'BUNDLE_ABSOLUTE_PATH',
      `The bundle path "${path}" is absolute; a bundle holds only paths relative to the notebook's folder. ` +
        'Re-create the bundle from the notebook folder with `ain pack`.',
      info
    );
  }
  const segments = path.split(/[/\\]/);
  if (segments.includes('..')) {
    throw makeError(
      'BUNDLE_PATH_TRAVERSAL',
      `The bundle path "${path}" contains "..", which would reach outside the bundle's folder when unpacked. ` +
        'Refusing it; bundles hold only files inside the notebook folder.',
      info
    );
  }
  const invalid = (why: string) =>
    makeError(
      'BUNDLE_INVALID_PATH',
      `The bundle path "${path}" ${why}. Rename the file and pack again.`,
      info
    );
  if (!path) {
    throw invalid('is empty');
  }
  if (utf8(path).length > maxPathLength) {
    throw invalid(`is longer than ${maxPathLength} bytes, which some file systems cannot hold`);
  }
  if (path.includes('\\')) {
    throw invalid('contains a backslash, which Windows reads as a folder separator');
  }
  for (const segment of segments) {
    if (segment === '' || segment === '.') {
      throw invalid('has an empty or "." segment');
    }
    if (FORBIDDEN.test(segment)) {
      throw invalid('contains a control character or one of < > : " | ? *, which Windows cannot store');
    }
    if (/[. ]$/.test(segment)) {
      throw invalid('has a name ending with a dot or a space, which Windows drops');
    }
    if (WINDOWS_DEVICE.test(segment)) {
      throw invalid(`uses "${segment}", a device name on Windows`);
    }
  }
}

/** The key under which two paths collide on a case-insensitive, normalizing file system (macOS, Windows). */
export function collisionKey(path: string): string {
  return path.normalize('NFC').toLowerCase();
}

/**
 * Throws BUNDLE_DUPLICATE_NAME when two paths (files, or explicit `folders` entries of a zip) are equal, differ
 * only by case or Unicode normalization, or when a file is also a folder of another file (`a` and `a/b`).
 */
export function checkPathSet(paths: Iterable<string>, folders: Iterable<string> = []): void {
  const list = [...paths];
  const names = new Map<string, string>();
  for (const path of [...list, ...folders]) {
    const key = collisionKey(path);
    const other = names.get(key);
    if (other !== undefined) {
      throw makeError(
        'BUNDLE_DUPLICATE_NAME',
        other === path
          ? `The bundle holds "${path}" twice; refusing the ambiguous zip. Re-create it with \`ain pack\`.`
          : `The bundle paths "${other}" and "${path}" differ only in case or Unicode form, so they collide on ` +
              'macOS and Windows. Rename one of the files and pack again.',
        { path, other }
      );
    }
    names.set(key, path);
  }
  const files = new Map(list.map(path => [collisionKey(path), path]));
  for (const [key, path] of files) {
    for (let slash = key.indexOf('/'); slash >= 0; slash = key.indexOf('/', slash + 1)) {
      const folder = files.get(key.slice(0, slash));
      if (folder !== undefined) {
        throw makeError(
          'BUNDLE_DUPLICATE_NAME',
          `"${folder}" is a file, and "${path}" needs a folder of that name. Rename one of them and pack again.`,
          { path, other: folder }
        );
      }
    }
  }
}
