import { codeHash } from '../core/notebook.js';
import { signedEvidence } from '../../tests/fixtures/lab-evidence.js';
import {
  deriveCellBadge,
  emptyEvidence,
  indexEvidence,
  mergeEvidence,
  readEvidence
} from './evidence-model.js';
import type { IAinReceiptCheck, IAinRecheckResult } from './tokens.js';
import { verifyApi } from './verify-api.js';

const sources = ['a = 1', 'b = a + 1', 'print(b)'];

function checkWith(
  f: ReturnType<typeof signedEvidence>,
  patch: (c: IAinReceiptCheck) => void
): IAinRecheckResult {
  const receipts = f.evidence.receipts.map(
    (r): IAinReceiptCheck => ({
      runId: r.runId,
      step: r.signed.receipt.step,
      signature: null,
      integrity: null,
      anchorNote: 'No anchored checkpoint covers it yet.',
      contradicted: false
    })
  );
  receipts.forEach(patch);
  return { receipts, runs: [], checkedAt: '2026-11-25T10:00:00Z', ms: 1 };
}

function badge(
  f: ReturnType<typeof signedEvidence>,
  check: IAinRecheckResult | undefined,
  cell: number,
  source?: string
) {
  return deriveCellBadge(indexEvidence(f.evidence, check), {
    cellId: `cell-${cell}`,
    codeHash: codeHash(source ?? sources[cell]),
    running: false
  });
}

describe('metadata.ain: reading and merging', () => {
  it('restores what it saved, through JSON', () => {
    const f = signedEvidence(sources);
    const { evidence, problems } = readEvidence(JSON.parse(JSON.stringify(f.evidence)));
    expect(problems).toEqual([]);
    expect(evidence).toEqual(f.evidence);
  });

  it('keeps the good entries of a damaged record and names the rest', () => {
    const f = signedEvidence(sources);
    const damaged = { ...f.evidence, receipts: [...f.evidence.receipts, { runId: 3 }], checkpoints: 'x' };
    const { evidence, problems } = readEvidence(damaged);
    expect(evidence.receipts).toHaveLength(3);
    expect(problems).toEqual([
      'metadata.ain.receipts[3] is malformed; it was ignored.',
      'metadata.ain.checkpoints is not a list; it was ignored.'
    ]);
    expect(readEvidence({ version: 2 }).problems[0]).toMatch(/version 2/);
    expect(readEvidence(undefined).evidence).toEqual(emptyEvidence());
  });

  it('merges live records without duplicates, keeping cell ids and anchored checkpoints', () => {
    const f = signedEvidence(sources);
    const restored = readEvidence(JSON.parse(JSON.stringify(f.evidence))).evidence;
    const withoutCell = { ...f.evidence.receipts[2], cellId: undefined };
    const pending = { runId: f.evidence.runs[0].runId, index: 0, root: f.root, receiptCount: 3 };
    const anchored = { ...pending, txHash: '0x' + '12'.repeat(32), blockNumber: 7 };
    let merged = mergeEvidence(restored, { receipts: [withoutCell], checkpoints: [anchored] });
    merged = mergeEvidence(merged, {
      checkpoints: [pending],
      runs: [{ ...f.evidence.runs[0], state: 'stopped' }]
    });
    expect(merged.receipts).toHaveLength(3);
    expect(merged.receipts[2].cellId).toBe('cell-2');
    expect(merged.checkpoints).toEqual([anchored]);
    expect(merged.runs).toHaveLength(1);
    expect(merged.runs[0].state).toBe('stopped');
  });

  it('adds an attestation to a verification already recorded instead of repeating it', () => {
    const f = signedEvidence(sources);
    const runId = f.evidence.runs[0].runId;
    const record = {
      runId,
      step: 0,
      level: 'reproduced' as const,
      detail: 'identical',
      at: '2026-11-25T10:00:00Z'
    };
    const once = mergeEvidence(f.evidence, { verifications: [record] });
    const attested = mergeEvidence(once, {
      verifications: [{ ...record, txHash: '0xfeed', verifier: '0xV' }]
    });
    expect(attested.verifications).toEqual([{ ...record, txHash: '0xfeed', verifier: '0xV' }]);
    const later = mergeEvidence(attested, { verifications: [{ ...record, at: '2026-11-26T10:00:00Z' }] });
    expect(later.verifications).toHaveLength(2);
  });

  it("picks a cell's latest execution", () => {
    const f = signedEvidence(['x', 'x']);
    f.evidence.receipts[1].cellId = 'cell-0';
    expect(indexEvidence(f.evidence, undefined).receiptByCell.get('cell-0')?.signed.receipt.step).toBe(1);
  });
});

describe('badge states', () => {
  it('is empty without a receipt, and says it is checking before the first re-check', () => {
    const f = signedEvidence(sources);
    expect(
      deriveCellBadge(indexEvidence(f.evidence, undefined), {
        cellId: 'other',
        codeHash: codeHash(''),
        running: false
      }).state
    ).toBe('none');
    const pending = badge(f, undefined, 0);
    expect(pending.state).toBe('none');
    expect(pending.detail).toMatch(/Checking/);
  });

  it('goes signed, then anchored, from a real re-check', async () => {
    const f = signedEvidence(sources);
    expect(badge(f, await verifyApi.recheck(f.evidence, null), 1).state).toBe('signed');
    const anchored = checkWith(f, c => {
      c.anchored = { checkpoint: 0, root: f.root, receiptCount: 3, proof: [], txHash: '0x1', blockNumber: 1 };
    });
    expect(badge(f, anchored, 1).state).toBe('anchored');
  });

  it('turns stale when the code changed, and invalid when a check failed', async () => {
    const f = signedEvidence(sources);
    const check = await verifyApi.recheck(f.evidence, null);
    const stale = badge(f, check, 1, 'b = a + 2');
    expect(stale.state).toBe('stale');
    expect(stale.detail).toContain(codeHash('b = a + 2'));
    f.evidence.receipts[1].signed.signature = f.evidence.receipts[0].signed.signature;
    const invalid = badge(f, await verifyApi.recheck(f.evidence, null), 1);
    expect(invalid.state).toBe('invalid');
    expect(invalid.detail).toMatch(/not signed by the run's provider/);
    expect(
      badge(
        f,
        checkWith(f, c => (c.contradicted = true)),
        0
      ).state
    ).toBe('invalid');
  });

  it('shows verifications, a mismatch first, and running above all', async () => {
    const f = signedEvidence(sources);
    const runId = f.evidence.runs[0].runId;
    const check = await verifyApi.recheck(f.evidence, null);
    f.evidence.verifications.push({
      runId,
      step: 0,
      level: 'checkpoint-checked',
      detail: '3 of 10 checkpoints; >= 97% if 30% of cells were falsified',
      at: '0'
    });
    expect(badge(f, check, 0)).toMatchObject({
      state: 'checkpoint-checked',
      detail: '3 of 10 checkpoints; >= 97% if 30% of cells were falsified'
    });
    f.evidence.verifications.push({
      runId,
      step: 0,
      level: 'reproduced',
      detail: 'Re-ran: outputs equal.',
      at: '1'
    });
    expect(badge(f, check, 0).state).toBe('reproduced');
    f.evidence.verifications.push({
      runId,
      step: 0,
      level: 'objective-verified',
      detail: 'AUC 0.91 ≥ 0.9',
      at: '2'
    });
    expect(badge(f, check, 0).state).toBe('objective-verified');
    f.evidence.verifications.push({
      runId,
      step: 0,
      level: 'mismatch',
      detail: 'Output 1 differs.',
      at: '3'
    });
    expect(badge(f, check, 0)).toMatchObject({ state: 'mismatch', detail: 'Output 1 differs.' });
    const running = deriveCellBadge(indexEvidence(f.evidence, check), {
      cellId: 'cell-0',
      codeHash: '',
      running: true
    });
    expect(running.state).toBe('running');
  });
});
