import { IAinRunRecord, mergeEvidence, emptyEvidence, readEvidence } from './evidence.js';

const run: IAinRunRecord = {
  chainId: 31337,
  runRegistry: '0x' + '11'.repeat(20),
  runId: '0x' + '22'.repeat(32),
  provider: '0x' + '33'.repeat(20),
  endpoint: 'http://127.0.0.1:1',
  bundleHash: '0x' + '44'.repeat(32),
  notebookHash: '0x' + '55'.repeat(32),
  escrow: '1000',
  pricePerHour: '10',
  openedAt: '2026-11-26T00:00:00.000Z',
  state: 'stopped'
};

const read = (runs: unknown[]) => readEvidence({ ...emptyEvidence(), runs });

describe('metadata.ain: a run record', () => {
  it('keeps the block of its openRun transaction, and reads records without one', () => {
    const { evidence, problems } = read([{ ...run, openedBlock: 0 }, { ...run, openedBlock: 123456 }, run]);
    expect(problems).toEqual([]);
    expect(evidence.runs.map(r => r.openedBlock)).toEqual([0, 123456, undefined]);
  });

  it('drops a run whose opening block is not a block number, naming it', () => {
    const bad = [-1, 1.5, '7', null, Number.MAX_SAFE_INTEGER + 1, Infinity, NaN];
    const { evidence, problems } = read([...bad.map(openedBlock => ({ ...run, openedBlock })), run]);
    expect(evidence.runs).toEqual([run]);
    expect(problems).toEqual(bad.map((_, i) => `metadata.ain.runs[${i}] is malformed; it was ignored.`));
  });

  it('merges the opening block into a record saved before it was known', () => {
    const merged = mergeEvidence({ ...emptyEvidence(), runs: [run] }, { runs: [{ ...run, openedBlock: 9 }] });
    expect(merged.runs).toEqual([{ ...run, openedBlock: 9 }]);
  });
});
