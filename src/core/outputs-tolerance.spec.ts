import { isAinError } from './errors.js';
import {
  comparisonOptionsFromTags,
  compareTextWithTolerance,
  DEFAULT_COMPARISON_OPTIONS,
  isClose,
  parseNumberToken,
  resolveComparisonOptions
} from './outputs-tolerance.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('comparisonOptionsFromTags', () => {
  it('gives numpy defaults in tolerance mode without tags', () => {
    expect(comparisonOptionsFromTags([])).toEqual({ mode: 'tolerance', rtol: 1e-5, atol: 1e-8 });
    expect(DEFAULT_COMPARISON_OPTIONS).toEqual({ mode: 'tolerance', rtol: 1e-5, atol: 1e-8 });
  });

  it('reads rtol, atol and compare', () => {
    expect(comparisonOptionsFromTags(['ain:rtol=1e-3', 'ain:atol=0.01', 'ain:compare=normalized'])).toEqual({
      mode: 'normalized',
      rtol: 0.001,
      atol: 0.01
    });
    expect(comparisonOptionsFromTags(['ain:compare=skip']).mode).toBe('skip');
    expect(comparisonOptionsFromTags(['ain:compare=exact']).mode).toBe('exact');
    expect(comparisonOptionsFromTags(['ain:rtol=0', 'ain:atol=.5', 'ain:rtol=0']).rtol).toBe(0);
    expect(comparisonOptionsFromTags([' ain:atol=2E+1 ']).atol).toBe(20);
  });

  it('applies tags over the given defaults', () => {
    expect(comparisonOptionsFromTags(['ain:atol=1'], { mode: 'exact', rtol: 0.5 })).toEqual({
      mode: 'exact',
      rtol: 0.5,
      atol: 1
    });
  });

  it('ignores tags of other features, ain: ones included', () => {
    expect(
      comparisonOptionsFromTags(['parameters', 'ain:objective=loss', 'rtol=5', 'ain:rtolerance=1'])
    ).toEqual(DEFAULT_COMPARISON_OPTIONS);
  });

  it.each([
    ['ain:rtol=-1e-3', 'ain:rtol=<non-negative number'],
    ['ain:rtol=abc', 'ain:rtol=<non-negative number'],
    ['ain:atol=nan', 'ain:atol=<non-negative number'],
    ['ain:atol=inf', 'ain:atol=<non-negative number'],
    ['ain:rtol=1e999', 'ain:rtol=<non-negative number'],
    ['ain:rtol=', 'ain:rtol=<non-negative number'],
    ['ain:rtol', 'ain:rtol=<non-negative number'],
    ['ain:atol=0x10', 'ain:atol=<non-negative number'],
    ['ain:compare=fuzzy', 'ain:compare=exact|normalized|tolerance|skip'],
    ['ain:compare=', 'ain:compare=exact|normalized|tolerance|skip']
  ])('rejects %s with OUTPUT_INVALID_TOLERANCE naming the tag and the accepted form', (tag, accepted) => {
    const e = thrown(() => comparisonOptionsFromTags(['ok', tag]));
    expect(isAinError(e, 'OUTPUT_INVALID_TOLERANCE')).toBe(true);
    expect((e as Error).message).toContain(`"${tag}"`);
    expect((e as Error).message).toContain(accepted);
  });

  it('rejects two different values for one key', () => {
    const e = thrown(() => comparisonOptionsFromTags(['ain:rtol=1e-3', 'ain:rtol=1e-4']));
    expect(isAinError(e, 'OUTPUT_INVALID_TOLERANCE')).toBe(true);
    expect((e as Error).message).toContain('ain:rtol=1e-3');
    expect((e as Error).message).toContain('ain:rtol=1e-4');
  });

  it('rejects invalid defaults', () => {
    expect(
      isAinError(
        thrown(() => comparisonOptionsFromTags([], { atol: -1 })),
        'OUTPUT_INVALID_TOLERANCE'
      )
    ).toBe(true);
  });
});

describe('resolveComparisonOptions', () => {
  it.each([[{ rtol: -0.1 }], [{ atol: NaN }], [{ atol: -Infinity }], [{ rtol: '1' as unknown as number }]])(
    'rejects %p',
    options => {
      expect(
        isAinError(
          thrown(() => resolveComparisonOptions(options)),
          'OUTPUT_INVALID_TOLERANCE'
        )
      ).toBe(true);
    }
  );
});

describe('isClose', () => {
  it('is numpy.isclose with equal_nan', () => {
    expect(isClose(1 + 1e-6, 1, 1e-5, 1e-8)).toBe(true);
    expect(isClose(1 + 1e-4, 1, 1e-5, 1e-8)).toBe(false);
    expect(isClose(NaN, NaN, 0, 0)).toBe(true);
    expect(isClose(NaN, 1, 1, 1)).toBe(false);
    expect(isClose(Infinity, Infinity, 0, 0)).toBe(true);
    expect(isClose(-Infinity, Infinity, 1, 1)).toBe(false);
    expect(isClose(1e308, Infinity, 1, 1)).toBe(false);
  });
});

describe('parseNumberToken', () => {
  it.each([
    ['42', 42],
    ['-1.5e3', -1500],
    ['+.25', 0.25],
    ['1.', 1],
    ['-inf', -Infinity],
    ['Infinity', Infinity],
    ['NaN', NaN]
  ])('%s', (token, value) => {
    expect(parseNumberToken(token)).toBe(value);
  });
});

describe('compareTextWithTolerance', () => {
  it('reports offsets on each side, which differ when earlier numbers are spelt differently', () => {
    const mismatch = compareTextWithTolerance('a 1.0 b 5', 'a 1.00000001 b 6', 1e-5, 1e-8);
    expect(mismatch).toEqual({ expectedOffset: 8, actualOffset: 15, reason: expect.stringContaining('6') });
  });

  it('says whether tolerance was needed', () => {
    const used = { tolerance: false };
    expect(compareTextWithTolerance('x 1', 'x 1', 0, 0, used)).toBeUndefined();
    expect(used.tolerance).toBe(false);
    expect(compareTextWithTolerance('x 1', 'x 1.0', 0, 0, used)).toBeUndefined();
    expect(used.tolerance).toBe(true);
  });

  it('does not read identifiers or dotted versions as numbers', () => {
    expect(compareTextWithTolerance('int64', 'int32', 1, 1)).toMatchObject({ expectedOffset: 3 });
    expect(compareTextWithTolerance('v1.2.3', 'v1.2.4', 1, 1)).toMatchObject({ expectedOffset: 5 });
  });
});
