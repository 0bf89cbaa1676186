/**
 * Hostile input, bundles (issue 7): property-based tests (fast-check) of the bundle reader, adding to the
 * rule-by-rule cases of src/core/bundle-reader.spec.ts. Whatever the bytes, readBundle either refuses with an
 * AinError (a code and a message) or accepts a bundle whose every file is what its manifest says, byte for byte.
 */
import fc from 'fast-check';
import { BundleManifest } from '../../src/core/bundle-manifest';
import { readBundle } from '../../src/core/bundle-reader';
import { canonicalJson } from '../../src/core/canonical-json';
import { sha256 } from '../../src/core/hash';
import {
  Tally,
  encoder,
  expectFaithful,
  honestBundle,
  honestEntries,
  outcome,
  rawZip,
  withFiles
} from './fixture-hostile';
import { recordCase } from './record';

const SEED = 20261125;
const MiB = 1024 * 1024;

describe('hostile input: the bundle reader', () => {
  const { bundle } = honestBundle();

  it('accepts the honest bundle, written by hand as by createBundle', () => {
    expectFaithful(readBundle(bundle.bytes));
    const read = outcome(() => readBundle(withFiles([])));
    expect('accepted' in read && read.accepted.bundleHash).toBe(bundle.bundleHash);
  });

  it('random bytes and random mutations of a valid bundle: refused with a code, or accepted faithfully', () => {
    const tally = new Tally();
    const started = Date.now();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), bytes => {
        tally.add(outcome(() => readBundle(bytes)));
      }),
      { numRuns: 500, seed: SEED }
    );
    // Random bytes behind an end-of-directory record with random counts, sizes and offsets.
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 1024 }),
        fc.record({ count: fc.nat(40), size: fc.nat(), offset: fc.nat() }),
        (body, end) => {
          const record = Buffer.alloc(22);
          record.writeUInt32LE(0x06054b50, 0);
          record.writeUInt16LE(end.count, 8);
          record.writeUInt16LE(end.count, 10);
          record.writeUInt32LE(end.size % (body.length + 1), 12);
          record.writeUInt32LE(end.offset % (body.length + 1), 16);
          tally.add(outcome(() => readBundle(Uint8Array.from([...body, ...record]))));
        }
      ),
      { numRuns: 500, seed: SEED }
    );
    const randomTally = tally.toString();
    const mutation = fc.record({
      flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength: 8
      }),
      // Truncations and insertions shift every offset: rarer than flips, so that most inputs still parse as zips.
      cut: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: fc.nat(), weight: 1 }),
      insert: fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 6 },
        { arbitrary: fc.record({ at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }), weight: 1 }
      )
    });
    const mutated = new Tally();
    let faithful = 0;
    fc.assert(
      fc.property(mutation, m => {
        let bytes = Uint8Array.from(bundle.bytes);
        for (const f of m.flips) {
          bytes[f.at % bytes.length] = f.value;
        }
        if (m.insert) {
          const at = m.insert.at % bytes.length;
          bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.insert.bytes, ...bytes.subarray(at)]);
        }
        if (m.cut !== undefined) {
          bytes = bytes.subarray(0, m.cut % bytes.length);
        }
        const o = outcome(() => readBundle(bytes));
        mutated.add(o);
        if ('accepted' in o) {
          expectFaithful(o.accepted);
          // A mutation that is accepted touched only bytes outside what the manifest vouches for.
          expect(o.accepted.bundleHash).toBe(bundle.bundleHash);
          faithful++;
        }
      }),
      { numRuns: 2000, seed: SEED }
    );
    const ms = Date.now() - started;
    recordCase({
      id: 'hostile-input.bundle-random',
      area: 'hostile-input',
      case: 'readBundle on 1,000 random byte strings (half behind a zip end record) and 2,000 random mutations (byte flips, insertions, truncations) of a valid bundle',
      tried: tally.tried + mutated.tried,
      // Written before the assertion below: an accepted random string must show as lost in the table too.
      survived: tally.tried + mutated.tried - tally.accepted,
      lost: tally.accepted,
      figure: `${tally.tried + mutated.tried} inputs, 0 crashes, ${faithful} mutations accepted (all with the original content and hash), ${ms} ms`,
      note: `random bytes: ${randomTally}; mutations: ${mutated.toString()}`
    });
    expect(tally.accepted).toBe(0);
  });

  it('hostile names (traversal, absolute, drive letters, backslashes, devices, control characters) are refused', () => {
    const segment = fc.oneof(
      fc.constantFrom(
        '..',
        '.',
        '',
        'a',
        'data',
        'C:',
        'c:',
        '~',
        'con',
        'AUX',
        'nul.txt',
        'x ',
        'y.',
        '\u0000'
      ),
      fc.constantFrom('\\..\\', '..\\x', '/', '\u202e', 'a:b', 'a*b', 'a?b', '\t', 'é', 'E\u0301'),
      fc.stringMatching(/^[a-z0-9]{1,6}$/)
    );
    const name = fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.constantFrom('/', '\\'))
      .map(([s, sep]) => s.join(sep));
    const hostile = (n: string) => /^[/\\]|^[A-Za-z]:/.test(n) || n.split(/[/\\]/).includes('..');
    const tally = new Tally();
    let dangerous = 0;
    fc.assert(
      fc.property(name, fc.boolean(), (path, listed) => {
        const entry = { name: path, data: encoder.encode('payload') };
        const bytes = listed ? withFiles([entry]) : rawZip([...honestEntries(), entry]);
        const o = outcome(() => readBundle(bytes));
        tally.add(o);
        if (hostile(path)) {
          dangerous++;
          expect(o).toMatchObject({
            code: expect.stringMatching(/^BUNDLE_(ABSOLUTE_PATH|PATH_TRAVERSAL|INVALID_PATH)$/)
          });
        }
        if ('accepted' in o) {
          expectFaithful(o.accepted);
          // Only a plain relative path gets through: no backslash, no empty/./.. segment, no control character.
          expect(path.includes('\\') || [...path].some(c => c.charCodeAt(0) < 0x20)).toBe(false);
          expect(path.split('/').some(s => s === '' || s === '.' || s === '..')).toBe(false);
        }
      }),
      { numRuns: 1000, seed: SEED }
    );
    recordCase({
      id: 'hostile-input.bundle-paths',
      area: 'hostile-input',
      case: 'bundle entries named with random traversal, absolute, drive-letter, backslash, device and control-character paths',
      tried: tally.tried,
      survived: tally.tried,
      lost: 0,
      figure: `${tally.tried} names (${dangerous} traversal or absolute), none unpacked outside the bundle`,
      note: tally.toString()
    });
  });

  it('links, special files, duplicates and case-folded names are refused', () => {
    const kind = fc.oneof(
      fc.constant({ what: 'symlink', attributes: (0o120777 << 16) >>> 0 }),
      fc.constant({ what: 'reparse', attributes: 0x400 }),
      fc.constant({ what: 'fifo', attributes: (0o010644 << 16) >>> 0 }),
      fc.constant({ what: 'device', attributes: (0o060644 << 16) >>> 0 }),
      fc.constant({ what: 'socket', attributes: (0o140644 << 16) >>> 0 })
    );
    const tally = new Tally();
    fc.assert(
      fc.property(kind, fc.constantFrom('/etc/passwd', '../../x', 'data/input.csv'), (k, target) => {
        const bytes = withFiles([
          { name: 'data/link', data: encoder.encode(target), attributes: k.attributes }
        ]);
        const o = outcome(() => readBundle(bytes));
        tally.add(o);
        expect(o).toMatchObject({
          code: k.what === 'symlink' || k.what === 'reparse' ? 'BUNDLE_LINK' : 'BUNDLE_INVALID_PATH'
        });
      }),
      { numRuns: 100, seed: SEED }
    );
    const caseFold = (s: string) =>
      fc
        .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
        .map(up => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z]{1,8}\/[a-z]{1,8}\.csv$/).chain(n => fc.tuple(fc.constant(n), caseFold(n))),
        ([a, b]) => {
          const o = outcome(() =>
            readBundle(
              withFiles([
                { name: a, data: encoder.encode('1') },
                { name: b, data: encoder.encode('2') }
              ])
            )
          );
          tally.add(o);
          expect(o).toMatchObject({ code: 'BUNDLE_DUPLICATE_NAME' });
        }
      ),
      { numRuns: 300, seed: SEED }
    );
    recordCase({
      id: 'hostile-input.bundle-links-duplicates',
      area: 'hostile-input',
      case: 'symbolic links, reparse points, pipes, devices, sockets; duplicate and case-folded names',
      tried: tally.tried,
      survived: tally.tried,
      lost: 0,
      figure: `${tally.tried} bundles, all refused by rule`,
      note: tally.toString()
    });
  });

  it('zip bombs: ratio, declared-size lies and a nested bomb are refused or never inflated', () => {
    const tally = new Tally();
    // Ratio and lies: one entry of `size` zero bytes deflated, whose declared size is the truth or a lie.
    const zeros = (n: number) => new Uint8Array(n);
    fc.assert(
      fc.property(
        fc.integer({ min: 2 * MiB, max: 20 * MiB }),
        fc.constantFrom('truth', 'smaller', 'larger', 'tiny'),
        (size, lie) => {
          const data = zeros(size);
          const declared = { truth: size, smaller: size - 1, larger: size + 4096, tiny: 1000 }[lie]!;
          const o = outcome(() => readBundle(withFiles([{ name: 'data/bomb.bin', data, size: declared }])));
          tally.add(o);
          expect(o).toMatchObject({
            code: expect.stringMatching(/^BUNDLE_(COMPRESSION_RATIO|SIZE_MISMATCH)$/)
          });
        }
      ),
      { numRuns: 24, seed: SEED }
    );
    // Nested: a 50 MB bomb zipped inside the bundle (stored, so its ratio is 1) is a file like any other: the
    // reader does not open zips within zips, and the inner bytes come out as they went in.
    const inner = rawZip([{ name: 'bomb.bin', data: zeros(50 * MiB) }]);
    const nested = outcome(() =>
      readBundle(withFiles([{ name: 'data/nested.zip', data: inner, method: 0 }]))
    );
    tally.add(nested);
    expect('accepted' in nested && nested.accepted.files.get('data/nested.zip')!.length).toBe(inner.length);
    if ('accepted' in nested) {
      expectFaithful(nested.accepted);
    }
    recordCase({
      id: 'hostile-input.bundle-bombs',
      area: 'hostile-input',
      case: 'zip bombs of 2-20 MB of zeros whose declared size is true, 1 byte short, 4 KiB long or 1,000 bytes; a 50 MB bomb nested in a bundle',
      tried: tally.tried,
      survived: tally.tried,
      lost: 0,
      figure: `${tally.tried - 1} bombs refused before or while inflating; the nested one (${inner.length} bytes) kept as an opaque file`,
      note: tally.toString()
    });
  });

  it('forged manifests (hashes, sizes, extra and missing files, notebook, environment) are refused', () => {
    const forgery = fc.oneof(
      fc.record({ kind: fc.constant('hash'), i: fc.nat(), hex: fc.stringMatching(/^[0-9a-f]{64}$/) }),
      fc.record({
        kind: fc.constant('size'),
        i: fc.nat(),
        delta: fc.integer({ min: -5, max: 5 }).filter(d => d !== 0)
      }),
      fc.record({ kind: fc.constant('drop'), i: fc.nat() }),
      fc.record({ kind: fc.constant('extra'), name: fc.stringMatching(/^[a-z]{1,8}\.txt$/) }),
      fc.record({ kind: fc.constant('notebookHash'), hex: fc.stringMatching(/^[0-9a-f]{64}$/) }),
      fc.record({ kind: fc.constant('envHash'), hex: fc.stringMatching(/^[0-9a-f]{64}$/) }),
      fc.record({
        kind: fc.constant('notebook'),
        name: fc.constantFrom('data/input.csv', 'requirements.txt', 'x.ipynb')
      }),
      fc.record({ kind: fc.constant('json'), value: fc.jsonValue({ maxDepth: 3 }) })
    );
    const tally = new Tally();
    fc.assert(
      fc.property(forgery, f => {
        const { files, bundle: honest } = honestBundle();
        const m = JSON.parse(JSON.stringify(honest.manifest)) as BundleManifest & Record<string, unknown>;
        const n = m.files.length;
        let manifestBytes: Uint8Array | null = null;
        if (f.kind === 'hash') {
          m.files[f.i % n].sha256 = '0x' + f.hex;
        }
        if (f.kind === 'size') {
          m.files[f.i % n].size = Math.max(0, m.files[f.i % n].size + f.delta);
        }
        if (f.kind === 'drop') {
          m.files.splice(f.i % n, 1);
        }
        if (f.kind === 'extra') {
          m.files.push({ path: f.name, size: 1, sha256: sha256('x') });
        }
        if (f.kind === 'notebookHash') {
          m.notebookHash = '0x' + f.hex;
        }
        if (f.kind === 'envHash') {
          m.environment.hash = '0x' + f.hex;
        }
        if (f.kind === 'notebook') {
          m.notebook = f.name;
        }
        if (f.kind === 'json') {
          manifestBytes = encoder.encode(JSON.stringify(f.value));
        }
        const same = manifestBytes === null && canonicalJson(m) === canonicalJson(honest.manifest);
        const bytes = rawZip([
          { name: 'ain-manifest.json', data: manifestBytes ?? encoder.encode(canonicalJson(m)) },
          ...[...files].map(([name, data]) => ({ name, data }))
        ]);
        const o = outcome(() => readBundle(bytes));
        tally.add(o);
        if (same) {
          return; // the random edit happened to change nothing (e.g. the same size)
        }
        expect(o).toMatchObject({ code: expect.stringMatching(/^(BUNDLE|NOTEBOOK)_/) });
      }),
      { numRuns: 1000, seed: SEED }
    );
    recordCase({
      id: 'hostile-input.bundle-manifests',
      area: 'hostile-input',
      case: 'forged manifests: wrong file hashes and sizes, dropped and extra files, forged notebook and environment hashes, another notebook, random JSON',
      tried: tally.tried,
      survived: tally.tried - tally.accepted,
      lost: tally.accepted,
      figure: `${tally.tried} forgeries, ${tally.accepted} accepted`,
      note: tally.toString()
    });
    expect(tally.accepted).toBe(0);
  });
});
