import { SigningKey } from 'ethers';
import { PROVIDER_KEY, ISignedFixture, signedEvidence } from '../../tests/fixtures/lab-evidence.js';
import { makeError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { signReceipt } from '../core/receipt.js';
import type { IVerificationReport } from '../core/verification.js';
import { emptyEvidence } from '../core/evidence.js';
import {
  attestFailure,
  openChallenges,
  latestVerificationSummary,
  otherProviders,
  progressText,
  resultRows,
  withAttestation
} from './verify-model.js';
import type { IAinProviderListing, IAinRecheckResult } from './tokens.js';

const RUN = ('0x' + 'ab'.repeat(32)) as `0x${string}`;

function report(): IVerificationReport {
  return {
    level: 'execution',
    runId: RUN,
    executor: 'local kernel (python3)',
    outcome: 'mismatch',
    summary: '1 reproduced, 1 differs',
    steps: [
      {
        step: 1,
        cellId: 'b',
        cellIndex: 2,
        verdict: 'differs',
        detail: 'Differs at output 1.',
        claimed: [],
        reproduced: []
      },
      {
        step: 0,
        cellId: 'a',
        cellIndex: 0,
        verdict: 'identical',
        detail: 'Reproduced: identical outputs.',
        claimed: [],
        reproduced: []
      },
      { step: 2, verdict: 'not-sampled', detail: 'Not in a sampled checkpoint.', claimed: [], reproduced: [] }
    ],
    attestation: { verdict: 'mismatch', receiptCount: 3, resultRoot: RUN, score: '1' },
    startedAt: '2026-11-25T10:00:00Z',
    ms: 10
  };
}

describe('the results dialog rows', () => {
  it('lists steps in order with the cell, its first line of code, the verdict and whether it can be compared', () => {
    const notebook = {
      cells: [{ source: ['x = 6 * 7\n', 'print(x)'] }, { source: '# notes' }, { source: '\nprint(x + 1)' }]
    };
    const rows = resultRows(report(), notebook);
    expect(rows.map(r => [r.where, r.code, r.verdictText, r.outcome, r.comparable])).toEqual([
      ['Cell 1', 'x = 6 * 7', 'identical', true, false],
      ['Cell 3', 'print(x + 1)', 'differs', false, true],
      ['Step 2', '', 'not sampled', null, false]
    ]);
  });
});

describe('the sidebar summary', () => {
  it('sums up the newest verification of the run, with its attestation', () => {
    const evidence = emptyEvidence();
    const base = { runId: RUN, method: 'execution' as const, executor: 'local kernel', detail: '' };
    evidence.verifications.push(
      { ...base, step: 0, level: 'mismatch', at: '2026-01-01T00:00:00Z' },
      { ...base, step: 0, level: 'reproduced', at: '2026-02-01T00:00:00Z', txHash: '0xfeed' },
      { ...base, step: 1, level: 'reproduced', at: '2026-02-01T00:00:00Z', txHash: '0xfeed' },
      { ...base, runId: ('0x' + 'cd'.repeat(32)) as `0x${string}`, step: 0, level: 'mismatch', at: '2027' }
    );
    expect(latestVerificationSummary(evidence, RUN)).toBe(
      'execution on local kernel: 2 reproduced (2026-02-01T00:00:00Z); attested in 0xfeed'
    );
    expect(latestVerificationSummary(emptyEvidence(), RUN)).toBeNull();
  });
});

describe('challenges the evidence supports', () => {
  const check = (f: ISignedFixture, contradicted: number | null, status = 'open'): IAinRecheckResult => ({
    receipts: f.evidence.receipts.map(r => ({
      runId: r.runId,
      step: r.signed.receipt.step,
      signature: null,
      integrity: null,
      anchorNote: r.signed.receipt.step === contradicted ? 'checkpoint 0 holds another leaf' : 'anchored',
      contradicted: r.signed.receipt.step === contradicted
    })),
    runs: [{ runId: f.evidence.runs[0].runId, status, checkpoints: [], chainNote: '' }],
    checkedAt: '',
    ms: 0
  });
  /** The fixture with a second receipt for step 0 signed by the same provider (an equivocation). */
  function equivocating(): ISignedFixture {
    const f = signedEvidence(['a = 1', 'b = 2']);
    const a = f.evidence.receipts[0].signed;
    const b = signReceipt(
      { ...a.receipt, outputHash: sha256('other') },
      f.domain,
      new SigningKey(PROVIDER_KEY)
    );
    f.evidence.equivocations = [{ runId: a.receipt.runId, step: 0, a, b }];
    return f;
  }

  it('offers an unchallenged equivocation and a contradicted receipt', () => {
    const f = equivocating();
    const runId = f.evidence.runs[0].runId;
    const options = openChallenges(f.evidence, check(f, 1));
    expect(options.map(o => [o.kind, o.step])).toEqual([
      ['equivocation', 0],
      ['inclusion', 1]
    ]);
    expect(openChallenges(f.evidence, check(f, null), runId)).toHaveLength(1);
    expect(openChallenges(f.evidence, check(f, 1), ('0x' + '00'.repeat(32)) as `0x${string}`)).toEqual([]);
  });

  it('offers nothing already challenged, nor for a run slashed already', () => {
    const f = equivocating();
    expect(openChallenges(f.evidence, check(f, null, 'slashed'))).toEqual([]);
    f.evidence.equivocations![0].challengeTx = '0xdone';
    expect(openChallenges(f.evidence, check(f, null))).toEqual([]);
    expect(openChallenges(undefined, undefined)).toEqual([]);
  });
});

describe('attestation failures', () => {
  it('names an attestation already made and a provider attesting its own run', () => {
    const already = makeError('CHAIN_REVERTED', 'refused', { error: 'AlreadyAttested' });
    expect(attestFailure(already, '0xV')).toMatchObject({ kind: 'already-attested' });
    expect(attestFailure(already, '0xV').message).toContain('has already attested this run');
    const own = makeError('CHAIN_REVERTED', 'refused', { error: 'ProviderCannotAttest' });
    expect(attestFailure(own, '0xP').message).toContain('a provider cannot attest its own run');
    expect(attestFailure(new Error('rpc down'), null)).toEqual({ kind: 'other', message: 'rpc down' });
    const viaAttestReport = makeError('VERIFY_CANNOT_ATTEST', 'x', { error: 'AlreadyAttested' });
    expect(attestFailure(viaAttestReport, null).kind).toBe('already-attested');
  });

  it('puts the transaction and verifier on every record', () => {
    const records = [{ runId: RUN, step: 0, level: 'reproduced' as const, detail: '', at: '1' }];
    expect(withAttestation(records, '0xtx', '0xV')).toEqual([
      { ...records[0], txHash: '0xtx', verifier: '0xV' }
    ]);
  });
});

describe('where to re-execute', () => {
  it("excludes the run's own provider and unreachable ones", () => {
    const p = (address: string, reachable: boolean | null) =>
      ({ address, reachable }) as unknown as IAinProviderListing;
    const list = [p('0xAA', true), p('0xbb', true), p('0xcc', false), p('0xdd', null)];
    expect(otherProviders(list, '0xaa').map(x => x.address)).toEqual(['0xbb', '0xdd']);
  });
});

describe('progress text', () => {
  it('counts steps and stays within the 140 characters a notification shows', () => {
    expect(progressText('Reproducing a.ipynb', 2, 5, 'step 1: identical')).toBe(
      'Reproducing a.ipynb: 2/5 · step 1: identical'
    );
    expect(progressText('R', 0, 0, '')).toBe('R: starting');
    expect(progressText('R', 1, 2, 'x'.repeat(200))).toHaveLength(140);
  });
});
