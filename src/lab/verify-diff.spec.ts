import { compareOutputs } from '../core/outputs-compare.js';
import type { NbOutput } from '../core/outputs-normalize.js';
import { cellComparisonMode, offsetOf, sideBySide } from './verify-diff.js';

const stream = (text: string): NbOutput => ({ output_type: 'stream', name: 'stdout', text });
const result = (plain: string): NbOutput => ({
  output_type: 'execute_result',
  execution_count: 3,
  metadata: {},
  data: { 'text/plain': plain }
});

describe('the side-by-side view of a mismatch', () => {
  it('shows the normalized outputs and marks the first difference on both sides', () => {
    const claimed = [stream('loss 0.25\n'), stream('accuracy 0.97\n'), result('42')];
    const reproduced = [stream('loss 0.25\naccuracy 0.51\n'), result('42')];
    const comparison = compareOutputs(claimed, reproduced);
    expect(comparison.verdict).toBe('differs');
    const view = sideBySide(claimed, reproduced, comparison);
    expect(view.form).toBe('normalized');
    // Streams merged, as the comparison saw them.
    expect(view.claimed.map(b => b.title)).toEqual([
      'output 1 · stream (stdout)',
      'output 2 · execute_result · text/plain'
    ]);
    const left = view.claimed[0];
    const right = view.reproduced[0];
    expect(left.text.slice(left.mark!.start, left.mark!.end)).toBe('0.97');
    expect(right.text.slice(right.mark!.start, right.mark!.end)).toBe('0.51');
    expect(view.claimed[1].mark).toBeUndefined();
    expect(view.difference).toMatch(
      /^First difference at output 1, line 2, column 10: 0.51 is not within tolerance/
    );
  });

  it('marks a missing output on the side that has it', () => {
    const claimed = [stream('a\n'), result('1')];
    const reproduced = [stream('a\n')];
    const view = sideBySide(claimed, reproduced, compareOutputs(claimed, reproduced));
    expect(view.claimed[1].mark).toEqual({ start: 0, end: 1 });
    expect(view.reproduced.some(b => b.mark)).toBe(false);
  });

  it('shows plain outputs (tracebacks kept) for an exact comparison, and nothing marked when equal', () => {
    const error: NbOutput = { output_type: 'error', ename: 'ValueError', evalue: 'bad', traceback: ['tb'] };
    const view = sideBySide([error], [error], compareOutputs([error], [error], { mode: 'exact' }), 'exact');
    expect(view.form).toBe('plain');
    expect(view.claimed.map(b => b.field)).toEqual(['ename', 'evalue', 'traceback']);
    expect(view.difference).toBeNull();
    expect([...view.claimed, ...view.reproduced].some(b => b.mark)).toBe(false);
  });

  it('still shows malformed claimed outputs', () => {
    const view = sideBySide([{ output_type: 'nonsense' } as unknown as NbOutput], [stream('x')], undefined);
    expect(view.claimed[0].title).toBe('outputs (malformed)');
    expect(view.reproduced[0].text).toBe('x');
  });

  it('maps 1-based lines and columns to offsets, clamped to the line', () => {
    expect(offsetOf('ab\ncd\n', 2, 2)).toBe(4);
    expect(offsetOf('ab\ncd', 2, 9)).toBe(5);
    expect(offsetOf('ab', 4, 1)).toBe(2);
  });

  it("reads a cell's comparison mode from its tags", () => {
    const notebook = {
      cells: [
        { metadata: { tags: ['ain:compare=exact'] } },
        { metadata: {} },
        { metadata: { tags: ['ain:compare=nope'] } }
      ]
    };
    expect(cellComparisonMode(notebook, 0)).toBe('exact');
    expect(cellComparisonMode(notebook, 1)).toBe('tolerance');
    expect(cellComparisonMode(notebook, 2)).toBe('tolerance');
    expect(cellComparisonMode(notebook, undefined)).toBe('tolerance');
  });
});
