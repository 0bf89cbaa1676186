import { isAinError } from './errors.js';
import type { NbOutput } from './outputs-normalize.js';
import { checkObjective, describeRule, objectiveRules, readMetric, scaleMetric } from './verify-objective.js';

const result = (plain: unknown): NbOutput[] => [
  { output_type: 'execute_result', execution_count: 1, data: { 'text/plain': plain }, metadata: {} }
];

describe('objectiveRules', () => {
  it('reads thresholds, exact values and the bare tag', () => {
    expect(objectiveRules(['ain:objective>=0.9', 'other'])).toEqual([
      { op: '>=', value: 0.9, text: 'ain:objective>=0.9' }
    ]);
    expect(objectiveRules(['ain:objective<=1e-2'])).toEqual([
      { op: '<=', value: 0.01, text: 'ain:objective<=1e-2' }
    ]);
    expect(objectiveRules(['ain:objective=-.5'])).toEqual([
      { op: '=', value: -0.5, text: 'ain:objective=-.5' }
    ]);
    expect(objectiveRules(['ain:objective'])).toEqual([{ op: 'any', value: 0, text: 'ain:objective' }]);
    expect(objectiveRules(['ain:objective', 'ain:objective>=0.8', 'ain:objective<=0.99'])).toHaveLength(2);
    expect(objectiveRules(['ain:rtol=1e-3', 'objective>=1'])).toEqual([]);
    expect(describeRule(objectiveRules(['ain:objective'])[0])).toBe('no threshold');
    expect(describeRule(objectiveRules(['ain:objective>=0.9'])[0])).toBe('>= 0.9');
  });

  it.each([
    'ain:objective>0.9',
    'ain:objective>=',
    'ain:objective>=high',
    'ain:objective=0.9.1',
    'ain:objectives'
  ])('refuses %s and says which forms work', tag => {
    try {
      objectiveRules([tag]);
      throw new Error('accepted');
    } catch (e) {
      expect(isAinError(e, 'VERIFY_OBJECTIVE_INVALID')).toBe(true);
      expect((e as Error).message).toContain(
        `Tag "${tag}" is not an objective rule: write ain:objective>=<number>`
      );
    }
  });
});

describe('readMetric', () => {
  it.each([
    ['0.97', 0.97],
    ['0.97\n', 0.97],
    ['np.float64(0.97)', 0.97],
    ['numpy.float32(0.9700001)', 0.9700001],
    ['tensor(0.9700)', 0.97],
    ["tensor(0.97, device='cuda:0')", 0.97],
    ['tensor(0.9700, dtype=torch.float64)', 0.97],
    ['-1.5e-3', -0.0015],
    [['0.', '97'], 0.97]
  ])('reads %j', (text, value) => {
    expect(readMetric(result(text))).toBe(value);
  });

  it.each([
    '[0.9, 0.8]',
    "{'acc': 0.9}",
    "'0.97'",
    'accuracy: 0.97',
    'nan',
    'tensor([0.97])',
    '0.97 0.98',
    ''
  ])('finds no single number in %j', text => {
    expect(readMetric(result(text))).toBeNull();
  });

  it('needs exactly one execute_result', () => {
    expect(readMetric([{ output_type: 'stream', name: 'stdout', text: '0.97\n' }])).toBeNull();
    expect(readMetric([...result('0.9'), ...result('0.8')])).toBeNull();
    expect(readMetric([{ output_type: 'stream', name: 'stdout', text: 'x\n' }, ...result('0.9')])).toBe(0.9);
  });
});

describe('checkObjective', () => {
  const [atLeast] = objectiveRules(['ain:objective>=0.9']);
  const [exactly] = objectiveRules(['ain:objective=0.93']);
  const [bare] = objectiveRules(['ain:objective']);

  it('passes when the rule holds and the claim is the recomputed metric', () => {
    expect(checkObjective(atLeast, 0.967, 0.967)).toEqual({ pass: true, reason: '' });
    expect(checkObjective(bare, 0.1, 0.1)).toEqual({ pass: true, reason: '' });
    expect(checkObjective(exactly, 0.9301, 0.9301, { rtol: 1e-3, atol: 0 }).pass).toBe(true);
  });

  it('fails below the threshold, on a different claim, or without numbers, and says why', () => {
    expect(checkObjective(atLeast, 0.85, 0.85).reason).toBe(
      '0.85 is below the threshold 0.9 (ain:objective>=0.9)'
    );
    expect(checkObjective(atLeast, 0.967, 0.99).reason).toBe(
      'the provider claimed 0.99, but the metric recomputes to 0.967 (rtol 1e-9, atol 0)'
    );
    expect(checkObjective(exactly, 0.94, 0.94).pass).toBe(false);
    expect(checkObjective(atLeast, null, 0.9).reason).toContain('printed no single number');
    expect(checkObjective(atLeast, 0.95, null).reason).toContain('claimed outputs hold no single number');
    // The default tolerance is relative 1e-9: float noise passes, a changed digit does not.
    expect(checkObjective(bare, 0.1 + 0.2, 0.3).pass).toBe(true);
    expect(checkObjective(bare, 0.30001, 0.3).pass).toBe(false);
  });
});

describe('scaleMetric', () => {
  it.each([
    [0.967, '967000000000000000'],
    [1, '1000000000000000000'],
    [-0.5, '-500000000000000000'],
    [1e-20, '0'],
    [1.5e-18, '2'],
    [123456.789, '123456789000000000000000'],
    [1e21, '1000000000000000000000000000000000000000']
  ])('%d -> %s', (x, s) => {
    expect(scaleMetric(x)).toBe(s);
  });
});
