/**
 * The zip container, read from its central directory, and entries inflated under a hard output limit.
 *
 * fflate inflates but does not expose the central directory (external attributes, which mark symlinks; declared
 * sizes, which let limits be checked before anything is inflated), so this small parser reads it, and refuses
 * every zip whose structure is ambiguous: a local header that disagrees with the central directory (two tools would
 * unpack different files), entries that overlap (the trick of non-recursive zip bombs) or bytes hidden between
 * them. Zip64, encryption, several disks and methods other than stored and deflate are refused: bundles never need
 * them.
 */
import { Inflate } from 'fflate';
import { AinError, makeError } from './errors.js';

/** One entry of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  flags: number;
  compressedSize: number;
  /** The uncompressed size the central directory declares (not trusted: inflation stops past it). */
  size: number;
  /** The host system of the entry (3 = Unix). */
  madeBy: number;
  /** Unix mode in the high 16 bits, DOS attributes in the low 16. */
  externalAttributes: number;
  /** Where the entry's compressed bytes start. */
  dataOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const DESCRIPTOR = 0x08074b50;
const ZIP64_LOCATOR = 0x07064b50;
// Compressed bytes handed to the inflater at once: deflate expands at most ~1,032 times, so one step writes at
// most ~4 MiB before the output limit is checked again.
const INFLATE_STEP = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the central directory of `bytes` and checks the structure. Throws BUNDLE_NOT_A_ZIP, BUNDLE_MALFORMED_ZIP,
 * BUNDLE_UNSUPPORTED_ZIP, BUNDLE_TOO_MANY_FILES (more than `maxEntries`, before reading them) or
 * BUNDLE_INVALID_PATH (a name that is not UTF-8).
 */
export function readZipDirectory(bytes: Uint8Array, maxEntries: number): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const eocd = Private.findEnd(bytes, view);
  if (eocd >= 20 && u32(eocd - 20) === ZIP64_LOCATOR) {
    throw Private.unsupported('it uses Zip64 extensions');
  }
  const [disk, cdDisk, onDisk, count, cdSize, cdOffset] = [
    u16(eocd + 4),
    u16(eocd + 6),
    u16(eocd + 8),
    u16(eocd + 10),
    u32(eocd + 12),
    u32(eocd + 16)
  ];
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw Private.unsupported('it uses Zip64 extensions');
  }
  if (disk !== 0 || cdDisk !== 0 || onDisk !== count) {
    throw Private.unsupported('it spans several disks');
  }
  if (count > maxEntries) {
    throw makeError(
      'BUNDLE_TOO_MANY_FILES',
      `The bundle has ${count} entries, more than the limit of ${maxEntries}. Bundle fewer files (zip a folder of many small files into one data file).`,
      { count, limit: maxEntries }
    );
  }
  Private.check(cdOffset + cdSize === eocd, 'the central directory does not end where the end record starts');
  const entries: Array<ZipEntry & { start: number; end: number }> = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    Private.check(p + 46 <= eocd && u32(p) === CENTRAL, `central directory entry ${i} is cut or corrupt`);
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const [compressedSize, size] = [u32(p + 20), u32(p + 24)];
    const [nameLength, extraLength, commentLength] = [u16(p + 28), u16(p + 30), u16(p + 32)];
    const start = u32(p + 42);
    const nameBytes = bytes.subarray(p + 46, p + 46 + nameLength);
    Private.check(
      p + 46 + nameLength + extraLength + commentLength <= eocd,
      `central directory entry ${i} is cut`
    );
    const name = Private.decodeName(nameBytes);
    if (flags & 0x2041) {
      throw Private.unsupported(`the entry ${name} is encrypted`);
    }
    if (method !== 0 && method !== 8) {
      throw Private.unsupported(
        `the entry ${name} uses compression method ${method} (only stored and deflate are read)`
      );
    }
    if (compressedSize === 0xffffffff || size === 0xffffffff || start === 0xffffffff || u16(p + 34) !== 0) {
      throw Private.unsupported(`the entry ${name} uses Zip64 extensions or another disk`);
    }
    Private.check(
      method === 8 || compressedSize === size,
      `the stored entry ${name} declares two different sizes`
    );
    // The local header must say the same as the central directory, or two unzip tools would disagree.
    Private.check(start + 30 <= cdOffset && u32(start) === LOCAL, `the local header of ${name} is missing`);
    const [localNameLength, localExtraLength] = [u16(start + 26), u16(start + 28)];
    const localName = bytes.subarray(start + 30, start + 30 + localNameLength);
    Private.check(
      localNameLength === nameLength &&
        localName.every((b, k) => b === nameBytes[k]) &&
        u16(start + 8) === method,
      `the local header of ${name} names another file or method than the central directory`
    );
    if (!(flags & 0x8)) {
      Private.check(
        u32(start + 14) === u32(p + 16) && u32(start + 18) === compressedSize && u32(start + 22) === size,
        `the local header of ${name} declares other sizes than the central directory`
      );
    }
    const dataOffset = start + 30 + localNameLength + localExtraLength;
    let end = dataOffset + compressedSize;
    if (flags & 0x8) {
      end += end + 4 <= cdOffset && u32(end) === DESCRIPTOR ? 16 : 12; // the data descriptor, signed or not
    }
    Private.check(end <= cdOffset, `the entry ${name} runs into the central directory`);
    entries.push({
      name,
      method,
      flags,
      compressedSize,
      size,
      madeBy: bytes[p + 5],
      externalAttributes: u32(p + 38),
      dataOffset,
      start,
      end
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  Private.check(p === eocd, 'the central directory holds more than its entries');
  // Entries must tile the bytes before the central directory exactly: no overlap, no gap.
  let expected = 0;
  for (const entry of [...entries].sort((a, b) => a.start - b.start)) {
    Private.check(
      entry.start === expected,
      entry.start < expected
        ? `the entry ${entry.name} overlaps another one (a zip bomb trick)`
        : `there are hidden bytes before the entry ${entry.name}`
    );
    expected = entry.end;
  }
  Private.check(expected === cdOffset, 'there are hidden bytes before the central directory');
  return entries.map(({ start: _start, end: _end, ...entry }) => entry);
}

/**
 * The uncompressed bytes of `entry`, never more than `limit`: inflation stops as soon as the output passes it,
 * and `tooLarge(bytesSoFar)` gives the error thrown then. Throws BUNDLE_MALFORMED_ZIP for invalid deflate data.
 */
export function inflateEntry(
  bytes: Uint8Array,
  entry: ZipEntry,
  limit: number,
  tooLarge: (inflated: number) => AinError
): Uint8Array {
  const data = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
  if (entry.method === 0) {
    if (data.length > limit) {
      throw tooLarge(data.length);
    }
    return data.slice();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over: AinError | undefined;
  const inflater = new Inflate((chunk: Uint8Array) => {
    total += chunk.length;
    if (total > limit) {
      over = tooLarge(total);
      throw over;
    }
    chunks.push(chunk);
  });
  try {
    for (let at = 0; at < data.length || at === 0; at += INFLATE_STEP) {
      inflater.push(data.subarray(at, at + INFLATE_STEP), at + INFLATE_STEP >= data.length);
    }
  } catch (e) {
    if (over) {
      throw over;
    }
    throw makeError(
      'BUNDLE_MALFORMED_ZIP',
      `The bundle entry ${entry.name} is not valid deflate data (${(e as Error).message}). Re-create the bundle with \`ain pack\`.`,
      { path: entry.name }
    );
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

namespace Private {
  /** Offset of the end-of-central-directory record: the last one whose comment reaches exactly the end. */
  export function findEnd(bytes: Uint8Array, view: DataView): number {
    for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
      if (view.getUint32(at, true) === EOCD && at + 22 + view.getUint16(at + 20, true) === bytes.length) {
        return at;
      }
    }
    throw makeError(
      'BUNDLE_NOT_A_ZIP',
      'This is not a bundle: it is not a zip file (no end of central directory). Bundles are .ainb files written by `ain pack` or the "Run on AI Network" button.'
    );
  }

  export function decodeName(nameBytes: Uint8Array): string {
    try {
      return utf8.decode(nameBytes);
    } catch {
      throw makeError(
        'BUNDLE_INVALID_PATH',
        'A bundle entry has a name that is not UTF-8. Rename the file and pack again.'
      );
    }
  }

  export function check(condition: boolean, why: string): asserts condition {
    if (!condition) {
      throw makeError(
        'BUNDLE_MALFORMED_ZIP',
        `The bundle is not a well-formed zip: ${why}. Refusing it; re-create it with \`ain pack\`.`
      );
    }
  }

  export function unsupported(why: string): AinError {
    return makeError(
      'BUNDLE_UNSUPPORTED_ZIP',
      `The bundle cannot be read: ${why}, which bundles never use. Re-create it with \`ain pack\`.`
    );
  }
}
