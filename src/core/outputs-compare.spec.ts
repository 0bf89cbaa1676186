import vectors from '../../tests/vectors/outputs.json';
import { isAinError } from './errors.js';
import { compareOutputs } from './outputs-compare.js';
import { NbOutput } from './outputs-normalize.js';
import { ComparisonOptions } from './outputs-tolerance.js';

const stream = (text: string, name = 'stdout'): NbOutput => ({ output_type: 'stream', name, text });
const plain = (text: string): NbOutput => ({
  output_type: 'execute_result',
  execution_count: 1,
  data: { 'text/plain': text }
});
const json = (value: unknown): NbOutput => ({
  output_type: 'display_data',
  data: { 'application/json': value }
});
const verdict = (e: NbOutput[], a: NbOutput[], options?: Partial<ComparisonOptions>) =>
  compareOutputs(e, a, options).verdict;

describe('shared vectors: verdicts (tests/vectors/outputs.json)', () => {
  it.each(vectors.verdicts.map(v => [v.name, v] as const))('%s', (_, vector) => {
    const v = vector as typeof vector & { options?: Partial<ComparisonOptions>; firstDifference?: object };
    const result = compareOutputs(v.expected as NbOutput[], v.actual as NbOutput[], v.options);
    expect(result.verdict).toBe(v.verdict);
    if (v.verdict === 'differs') {
      expect(result.firstDifference).toMatchObject(v.firstDifference ?? {});
    } else {
      expect(result.firstDifference).toBeUndefined();
    }
  });

  it('covers every verdict', () => {
    const seen = new Set(vectors.verdicts.map(v => v.verdict));
    expect([...seen].sort()).toEqual([
      'differs',
      'identical',
      'normalized-equal',
      'skipped',
      'within-tolerance'
    ]);
  });
});

describe('compareOutputs', () => {
  it('calls equal outputs identical in every mode but skip', () => {
    const outputs = [stream('a 0.5\n'), plain('1')];
    for (const mode of ['exact', 'normalized', 'tolerance'] as const) {
      expect(verdict(outputs, outputs, { mode })).toBe('identical');
    }
    expect(verdict(outputs, outputs, { mode: 'skip' })).toBe('skipped');
  });

  it('uses numpy defaults: rtol 1e-5 scaled by the expected value, atol 1e-8', () => {
    expect(verdict([plain('100000')], [plain('100000.9')])).toBe('within-tolerance');
    expect(verdict([plain('100000')], [plain('100001.1')])).toBe('differs');
    expect(verdict([plain('0')], [plain('9e-9')])).toBe('within-tolerance');
    expect(verdict([plain('0')], [plain('2e-8')])).toBe('differs');
  });

  it('scales rtol by the expected side, as numpy.isclose(actual, expected) does', () => {
    const options = { rtol: 0.1, atol: 0 };
    expect(verdict([plain('110.5')], [plain('100')], options)).toBe('within-tolerance');
    expect(verdict([plain('100')], [plain('110.5')], options)).toBe('differs');
  });

  it('accepts a tolerance of zero: only equal values in another spelling', () => {
    const options = { rtol: 0, atol: 0 };
    expect(verdict([plain('1.50')], [plain('1.5')], options)).toBe('within-tolerance');
    expect(verdict([plain('1e-5')], [plain('0.00001')], options)).toBe('within-tolerance');
    expect(verdict([plain('1.5')], [plain('1.5000001')], options)).toBe('differs');
  });

  it.each([
    ['float32', 'float64'],
    ['version 1.2.3', 'version 1.2.4'],
    ['x1', 'x2'],
    ['True', 'False'],
    ['a - 1', 'a + 1']
  ])('keeps the words around numbers exact: %s vs %s', (e, a) => {
    expect(verdict([plain(e)], [plain(a)])).toBe('differs');
  });

  it.each([
    ['12ms', '12.00000001ms'],
    ['-0.0', '0.0'],
    ['1e-5', '1.00000001E-05'],
    ['[1.0, 2.0]', '[1.00000001, 2.0]'],
    ['+3.5', '3.50000001'],
    ['.5', '0.5'],
    ['x=-inf', 'x=-Infinity'],
    ['nan', 'NaN']
  ])('reads numbers in many spellings: %s vs %s', (e, a) => {
    expect(verdict([plain(e)], [plain(a)])).toBe('within-tolerance');
  });

  it('reports a number that is missing on one side', () => {
    const result = compareOutputs([plain('values 1 2')], [plain('values 1')]);
    expect(result.verdict).toBe('differs');
    expect(result.firstDifference).toMatchObject({
      line: 1,
      column: 9,
      expected: 'values 1 2',
      actual: 'values 1'
    });
  });

  it('never applies tolerance to images, even to base64 that reads like numbers', () => {
    const image = (b64: string): NbOutput => ({ output_type: 'display_data', data: { 'image/png': b64 } });
    const result = compareOutputs([image('AAAA1111')], [image('AAAA1112')], { rtol: 1, atol: 1 });
    expect(result.verdict).toBe('differs');
    expect(result.firstDifference).toMatchObject({ mimeType: 'image/png', offset: 7 });
    expect(result.firstDifference?.reason).toMatch(/byte for byte/);
  });

  it('applies tolerance to numbers inside JSON values and reports a JSON pointer', () => {
    expect(verdict([json({ a: [1, 2.5] })], [json({ a: [1, 2.50000001] })])).toBe('within-tolerance');
    const result = compareOutputs([json({ a: { 'b/c': [1, 2, 3] } })], [json({ a: { 'b/c': [1, 2, 4] } })]);
    expect(result.firstDifference).toMatchObject({ mimeType: 'application/json', path: '/a/b~1c/2' });
    expect(compareOutputs([json({ a: 1 })], [json({ a: 1, b: 2 })]).firstDifference).toMatchObject({
      path: '/b'
    });
    expect(compareOutputs([json([1, 2])], [json([1])]).firstDifference?.reason).toMatch(/2 and 1 items/);
    expect(verdict([json({ a: 'x' })], [json({ a: 'y' })])).toBe('differs');
    expect(verdict([json({ a: 1 })], [json({ a: 1.000001 })], { mode: 'normalized' })).toBe('differs');
  });

  it('reports a missing and an extra MIME type', () => {
    const both: NbOutput = {
      output_type: 'display_data',
      data: { 'text/plain': 'x', 'text/html': '<b>x</b>' }
    };
    const one: NbOutput = { output_type: 'display_data', data: { 'text/plain': 'x' } };
    expect(compareOutputs([both], [one]).firstDifference).toMatchObject({
      mimeType: 'text/html',
      actual: ''
    });
    expect(compareOutputs([one], [both]).firstDifference).toMatchObject({
      mimeType: 'text/html',
      expected: ''
    });
  });

  it('reports output types and counts', () => {
    expect(compareOutputs([stream('1')], [plain('1')]).firstDifference).toMatchObject({
      outputIndex: 0,
      field: 'output_type',
      expected: 'stream',
      actual: 'execute_result'
    });
    expect(compareOutputs([stream('a\n'), plain('1')], []).firstDifference).toMatchObject({
      outputIndex: 0,
      field: 'outputs',
      reason: 'expected 2 outputs, got 0'
    });
  });

  it('counts output indices after streams are merged', () => {
    const expected = [stream('a'), stream('b\n'), plain('1')];
    const actual = [stream('ab\n'), plain('2')];
    expect(compareOutputs(expected, actual).firstDifference).toMatchObject({ outputIndex: 1, field: 'data' });
  });

  it('gives line, column and snippets of the first difference', () => {
    const e = 'line one\nline two has 0.25 here\n';
    const a = 'line one\nline two has 0.75 here\n';
    const difference = compareOutputs([stream(e)], [stream(a)]).firstDifference;
    expect(difference).toMatchObject({ field: 'text', line: 2, column: 14 });
    expect(difference?.expected).toContain('0.25 here');
    expect(difference?.actual).toContain('0.75 here');
    expect(difference?.reason).toContain('not within tolerance');
  });

  it('compares an error by ename and evalue, with tolerance on numbers in evalue', () => {
    const err = (evalue: string, traceback: string[]): NbOutput => ({
      output_type: 'error',
      ename: 'AssertionError',
      evalue,
      traceback
    });
    expect(verdict([err('got 0.1', ['a'])], [err('got 0.1', ['b'])])).toBe('normalized-equal');
    expect(verdict([err('got 0.1', ['a'])], [err('got 0.100000001', ['a'])])).toBe('within-tolerance');
    expect(
      compareOutputs([err('x', ['a'])], [err('x', ['b'])], { mode: 'exact' }).firstDifference
    ).toMatchObject({
      field: 'traceback'
    });
  });

  it.each([
    [{ rtol: -1 }],
    [{ atol: NaN }],
    [{ rtol: Infinity }],
    [{ mode: 'fuzzy' as ComparisonOptions['mode'] }]
  ])('rejects options %p with OUTPUT_INVALID_TOLERANCE', options => {
    let caught: unknown;
    try {
      compareOutputs([], [], options);
    } catch (e) {
      caught = e;
    }
    expect(isAinError(caught, 'OUTPUT_INVALID_TOLERANCE')).toBe(true);
  });
});
