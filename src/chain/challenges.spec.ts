import { SigningKey, Wallet } from 'ethers';
import type { IAinNotebookEvidence, IAinRecheckResult, IAinRunRecord } from '../core/evidence';
import { Hex32, keccak256, ZERO_HASH } from '../core/hash';
import { IStepReceipt, receiptDigest, signReceipt } from '../core/receipt';
import { findChallenges } from './challenges';

describe('findChallenges', () => {
  const key = new SigningKey('0x' + '22'.repeat(32));
  const stranger = new SigningKey('0x' + '33'.repeat(32));
  const domain = { chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
  const runId = keccak256('run') as Hex32;
  const run: IAinRunRecord = {
    chainId: domain.chainId,
    runRegistry: domain.verifyingContract,
    runId,
    provider: new Wallet(key.privateKey).address,
    endpoint: 'http://127.0.0.1:1',
    bundleHash: ZERO_HASH,
    notebookHash: ZERO_HASH,
    escrow: '0',
    pricePerHour: '0',
    openedAt: '2026-11-25T00:00:00.000Z',
    state: 'stopped'
  };
  const receipt = (step: number, tag = 'a'): IStepReceipt => ({
    runId,
    step,
    prev: ZERO_HASH,
    codeHash: keccak256(`code ${step}`),
    outputHash: keccak256(`${tag} ${step}`),
    artifactsHash: ZERO_HASH,
    startedAt: 1,
    endedAt: 2
  });
  const record = (r: IStepReceipt, signer = key) => ({
    runId,
    signed: signReceipt(r, domain, signer),
    digest: receiptDigest(r, domain)
  });
  const evidence = (extra: Partial<IAinNotebookEvidence>): IAinNotebookEvidence => ({
    version: 1,
    runs: [run],
    receipts: [record(receipt(0))],
    checkpoints: [],
    verifications: [],
    ...extra
  });

  it('finds a recorded equivocation signed by the provider, once', () => {
    const a = signReceipt(receipt(0), domain, key);
    const b = signReceipt(receipt(0, 'b'), domain, key);
    const found = findChallenges(
      evidence({
        equivocations: [
          { runId, step: 0, a, b },
          { runId, step: 0, a: b, b: a }
        ]
      }),
      null
    );
    expect(found).toEqual([expect.objectContaining({ kind: 'equivocation', runId, step: 0, a, b })]);
  });

  it('finds two differing receipts filed for one step', () => {
    const found = findChallenges(evidence({ receipts: [record(receipt(0)), record(receipt(0, 'b'))] }), null);
    expect(found.map(c => [c.kind, c.step])).toEqual([['equivocation', 0]]);
  });

  it('keeps nothing the contract would refuse: another signer, identical receipts, different steps', () => {
    const a = signReceipt(receipt(0), domain, key);
    const cases = [
      { runId, step: 0, a, b: signReceipt(receipt(0, 'b'), domain, stranger) },
      { runId, step: 0, a, b: a },
      { runId, step: 0, a, b: signReceipt(receipt(1, 'b'), domain, key) }
    ];
    expect(findChallenges(evidence({ equivocations: cases }), null)).toEqual([]);
  });

  it('turns receipts the re-check found contradicted into inclusion challenges', () => {
    const recheck: IAinRecheckResult = {
      receipts: [
        { runId, step: 0, signature: null, integrity: null, anchorNote: 'root differs', contradicted: true }
      ],
      runs: [],
      checkedAt: '',
      ms: 0
    };
    const found = findChallenges(evidence({}), recheck);
    expect(found).toEqual([expect.objectContaining({ kind: 'inclusion', step: 0, why: 'root differs' })]);
  });
});
