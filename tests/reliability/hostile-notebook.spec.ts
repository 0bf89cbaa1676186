/**
 * Hostile input, notebooks and their evidence (issue 7): parseNotebook/notebookHash on nbformat 3, invalid JSON,
 * deep nesting, random JSON values and a 50 MB notebook of outputs (generated here, timed: the figure is
 * recorded, not asserted); readEvidence on random metadata.ain values, whose result the offline re-check must
 * then digest without a crash.
 */
import fc from 'fast-check';
import { readEvidence } from '../../src/core/evidence';
import { notebookHash, parseNotebook } from '../../src/core/notebook';
import { recheckEvidence } from '../../src/chain/evidence-recheck';
import { Tally, encoder, notebookBytes, outcome } from './fixture-hostile';
import { recordCase } from './record';

const SEED = 20261125;
const MiB = 1024 * 1024;

describe('hostile input: the notebook reader', () => {
  it('nbformat 3, invalid JSON, deep nesting and random JSON: refused with a code, never a crash', () => {
    const tally = new Tally();
    const expectCode = (input: string | Uint8Array | object, code: RegExp) => {
      const o = outcome(() => notebookHash(input));
      tally.add(o);
      expect(o).toMatchObject({ code: expect.stringMatching(code) });
    };
    // nbformat 3 (worksheets), as IPython 1.x wrote it.
    expectCode(
      {
        nbformat: 3,
        nbformat_minor: 0,
        metadata: {},
        worksheets: [{ cells: [{ cell_type: 'code', input: 'x' }] }]
      },
      /^NOTEBOOK_UNSUPPORTED_FORMAT$/
    );
    // Deep nesting: a parser that recursed per level would overflow the stack.
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    expectCode(deep, /^NOTEBOOK_(MALFORMED|INVALID_JSON)$/);
    // Deep but valid metadata is not hashed (only kernel and language are): accepted.
    const deepMeta = outcome(() =>
      notebookHash(
        `{"nbformat":4,"nbformat_minor":5,"metadata":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},"cells":[]}`
      )
    );
    tally.add(deepMeta);
    expect('accepted' in deepMeta).toBe(true);
    // Random text (mostly invalid JSON), random bytes (mostly invalid UTF-8), random JSON values.
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), text => {
        const o = outcome(() => notebookHash(text));
        tally.add(o);
      }),
      { numRuns: 500, seed: SEED }
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), bytes => {
        tally.add(outcome(() => notebookHash(bytes)));
      }),
      { numRuns: 500, seed: SEED }
    );
    // Random JSON shaped like a notebook: cells of random kinds, sources, tags and attachments.
    const cell = fc.record(
      {
        cell_type: fc.oneof(
          { arbitrary: fc.constantFrom('code', 'markdown', 'raw', 'heading'), weight: 9 },
          { arbitrary: fc.jsonValue(), weight: 1 }
        ),
        source: fc.oneof(
          { arbitrary: fc.string(), weight: 5 },
          { arbitrary: fc.array(fc.string()), weight: 4 },
          { arbitrary: fc.jsonValue(), weight: 1 }
        ),
        metadata: fc.oneof(
          fc.record({ tags: fc.oneof(fc.array(fc.string()), fc.jsonValue()) }),
          fc.jsonValue()
        ),
        attachments: fc.jsonValue({ maxDepth: 2 })
      },
      { requiredKeys: ['cell_type', 'source'] }
    );
    const nb = fc.record(
      {
        nbformat: fc.oneof(
          { arbitrary: fc.constant(4), weight: 5 },
          { arbitrary: fc.jsonValue(), weight: 1 }
        ),
        nbformat_minor: fc.oneof(
          { arbitrary: fc.nat(10), weight: 5 },
          { arbitrary: fc.jsonValue(), weight: 1 }
        ),
        metadata: fc.jsonValue({ maxDepth: 3 }),
        cells: fc.oneof(
          { arbitrary: fc.array(cell, { maxLength: 5 }), weight: 5 },
          { arbitrary: fc.jsonValue(), weight: 1 }
        )
      },
      { requiredKeys: [] }
    );
    let hashed = 0;
    fc.assert(
      fc.property(fc.oneof({ arbitrary: nb, weight: 3 }, { arbitrary: fc.jsonValue(), weight: 1 }), value => {
        const o = outcome(() => notebookHash(value as object));
        tally.add(o);
        if ('accepted' in o) {
          hashed++;
          // Accepted means it is a notebook: the same value as text hashes the same.
          expect(notebookHash(JSON.stringify(value))).toBe(o.accepted);
          expect(parseNotebook(value as object).nbformat).toBe(4);
        }
      }),
      { numRuns: 2000, seed: SEED }
    );
    recordCase({
      id: 'hostile-input.notebook-random',
      area: 'hostile-input',
      case: 'notebookHash on nbformat 3, 100,000-deep JSON, 500 random strings, 500 random byte strings and 2,000 random notebook-shaped or arbitrary JSON values',
      tried: tally.tried,
      survived: tally.tried,
      lost: 0,
      figure: `${tally.tried} inputs, 0 crashes; ${hashed} random values were valid notebooks and hashed the same as text`,
      note: tally.toString()
    });
  });

  it('hashes a 50 MB notebook of outputs (generated at test time) the same as without its outputs', () => {
    const base = JSON.parse(new TextDecoder().decode(notebookBytes(20)));
    const line = 'x'.repeat(1023) + '\n';
    const perCell = Math.ceil((50 * MiB) / 20 / line.length);
    const heavy = {
      ...base,
      cells: base.cells.map((c: Record<string, unknown>) => ({
        ...c,
        outputs: [
          { output_type: 'stream', name: 'stdout', text: Array.from({ length: perCell }, () => line) }
        ]
      }))
    };
    const bytes = encoder.encode(JSON.stringify(heavy));
    expect(bytes.length).toBeGreaterThanOrEqual(50 * MiB);
    const started = process.hrtime.bigint();
    const hash = notebookHash(bytes);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // Outputs are not part of the notebook hash: the 50 MB notebook is the same notebook as the empty one.
    expect(hash).toBe(notebookHash(base));
    recordCase({
      id: 'hostile-input.notebook-50mb',
      area: 'hostile-input',
      case: 'notebookHash of a 50 MB notebook (20 cells, 2.5 MB of stream output each), generated at test time',
      tried: 1,
      survived: 1,
      lost: 0,
      figure: `${(bytes.length / MiB).toFixed(1)} MB notebook parsed and hashed in ${(ms / 1000).toFixed(2)} s`
    });
  });

  it('readEvidence on random metadata.ain values keeps what is well formed, and the re-check never crashes', async () => {
    const hex = fc.stringMatching(/^0x[0-9a-f]{64}$/);
    // Mostly well-typed fields, sometimes any JSON: deep enough to reach the signature and chain checks.
    const anyOr = <T>(a: fc.Arbitrary<T>) =>
      fc.oneof({ arbitrary: a, weight: 9 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 });
    const receipt = fc.record({
      runId: anyOr(hex),
      step: anyOr(fc.nat(5)),
      prev: anyOr(hex),
      codeHash: anyOr(hex),
      outputHash: anyOr(hex),
      artifactsHash: anyOr(hex),
      startedAt: anyOr(fc.nat()),
      endedAt: anyOr(fc.nat())
    });
    const evidence = fc.record(
      {
        version: anyOr(fc.constant(1)),
        runs: anyOr(
          fc.array(
            fc.record({
              chainId: anyOr(fc.constant(31337)),
              runRegistry: anyOr(
                fc.constantFrom('0x5FbDB2315678afecb367f032d93F642f64180aa3', 'not an address')
              ),
              runId: anyOr(hex),
              provider: anyOr(fc.constantFrom('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x12'))
            }),
            { maxLength: 3 }
          )
        ),
        receipts: anyOr(
          fc.array(
            fc.record({
              runId: anyOr(hex),
              digest: anyOr(hex),
              signed: anyOr(
                fc.record({
                  receipt: anyOr(receipt),
                  signature: anyOr(fc.stringMatching(/^0x[0-9a-f]{0,140}$/))
                })
              )
            }),
            { maxLength: 4 }
          )
        ),
        checkpoints: fc.jsonValue({ maxDepth: 2 }),
        verifications: fc.jsonValue({ maxDepth: 2 }),
        equivocations: fc.jsonValue({ maxDepth: 2 })
      },
      { requiredKeys: [] }
    );
    let tried = 0;
    let kept = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: evidence, weight: 9 }, { arbitrary: fc.jsonValue(), weight: 1 }),
        async value => {
          tried++;
          const read = readEvidence(value);
          kept += read.evidence.receipts.length;
          // Every kept receipt gets a verdict; none passes its signature check (no signature here is genuine).
          const result = await recheckEvidence(read.evidence, null);
          expect(result.receipts).toHaveLength(read.evidence.receipts.length);
          for (const check of result.receipts) {
            expect(check.signature).not.toBeNull();
          }
        }
      ),
      { numRuns: 1000, seed: SEED }
    );
    recordCase({
      id: 'hostile-input.evidence-random',
      area: 'hostile-input',
      case: 'readEvidence then the offline re-check on 1,000 random metadata.ain values (random receipts, signatures, runs, types)',
      tried,
      survived: tried,
      lost: 0,
      figure: `${tried} values, 0 crashes; ${kept} well-formed receipts kept, all refused for their signature`
    });
  });
});
