import type { IVerificationReport } from '../core/verification';
import { reportJunit, reportTable, verdictClass, xml } from './verify-report';

describe('ain verify report output', () => {
  const report: IVerificationReport = {
    level: 'checkpoint',
    runId: ('0x' + 'ab'.repeat(32)) as IVerificationReport['runId'],
    executor: 'local kernel (python3)',
    outcome: 'mismatch',
    summary: '1 of 3 compared cells differs',
    steps: [
      {
        step: 0,
        cellIndex: 0,
        cellId: 'abcdef0123',
        verdict: 'identical',
        detail: 'identical outputs',
        ms: 12
      },
      { step: 1, cellIndex: 2, verdict: 'differs', detail: 'expected "1 < 2" & got <3>', ms: 5 },
      { step: 2, verdict: 'not-sampled', detail: 'Not in a sampled checkpoint.' },
      { step: 3, verdict: 'unavailable', detail: 'no cell has its code' }
    ],
    checkpoint: {
      anchoredCount: 3,
      sampledIndexes: [0],
      cellsChecked: 2,
      cellsTotal: 4,
      falsifiedFraction: 0.3,
      probability: 0.5,
      statement: '1 of 3 checkpoints; >= 50% if 30% of cells were falsified'
    },
    attestation: {
      verdict: 'mismatch',
      receiptCount: 4,
      resultRoot: ('0x' + '00'.repeat(32)) as never,
      score: '1'
    },
    startedAt: '2026-11-25T00:00:00.000Z',
    ms: 1500
  };

  it('classes verdicts as CI sees them', () => {
    expect(
      ['identical', 'normalized-equal', 'within-tolerance', 'objective-pass'].map(v =>
        verdictClass(v as never)
      )
    ).toEqual(['passed', 'passed', 'passed', 'passed']);
    expect(['differs', 'objective-fail', 'unsigned-outputs'].map(v => verdictClass(v as never))).toEqual([
      'failed',
      'failed',
      'failed'
    ]);
    expect(verdictClass('not-sampled')).toBe('skipped');
    expect(verdictClass('unavailable')).toBe('error');
  });

  it('prints one aligned row per step, then the checkpoint statement and the result', () => {
    const lines = reportTable(report, ['a note']).split('\n');
    expect(lines).toContain('0     #1 abcdef01  ✓ identical    identical outputs');
    expect(lines).toContain('1     #3           ✗ differs      expected "1 < 2" & got <3>');
    expect(lines).toContain('2     -            · not-sampled  Not in a sampled checkpoint.');
    expect(lines).toContain('checkpoints  1 of 3 checkpoints; >= 50% if 30% of cells were falsified');
    expect(lines).toContain('note         a note');
    expect(lines).toContain('result       MISMATCH: 1 of 3 compared cells differs');
  });

  it('writes JUnit XML with counts per class and escaped text', () => {
    const text = reportJunit(report, 'a&b.ipynb');
    expect(text).toContain('tests="4" failures="1" errors="1" skipped="1" time="1.500"');
    expect(text).toContain('classname="a&amp;b.ipynb"');
    expect(text).toContain(
      '<failure type="differs" message="expected &quot;1 &lt; 2&quot; &amp; got &lt;3&gt;">'
    );
    expect(text).toContain('<skipped message="not-sampled: Not in a sampled checkpoint."/>');
    expect(text.match(/<testcase /g)).toHaveLength(4);
  });

  it('drops characters XML 1.0 cannot hold', () => {
    expect(xml('a\u0000b\u001bc\td')).toBe('abc\td');
  });
});
