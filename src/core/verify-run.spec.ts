import { IRunStep, signedRun } from '../../tests/fixtures/lab-evidence.js';
import { sha256, utf8, ZERO_HASH } from './hash.js';
import { ReceiptTree } from './merkle.js';
import { NbOutput, outputHash } from './outputs-normalize.js';
import { IArtifact } from './receipt.js';
import { deriveSamplingSeed, sampleCheckpoints } from './sampling.js';
import type {
  ICellExecutor,
  IEvidenceSource,
  IExecuted,
  IVerifyOptions,
  IVerifyProgress
} from './verification.js';
import { verificationRecords, verifyNotebook } from './verify-run.js';

const out = (text: string): NbOutput[] => [{ output_type: 'stream', name: 'stdout', text }];
const result = (plain: string, n = 1): NbOutput[] => [
  { output_type: 'execute_result', execution_count: n, data: { 'text/plain': plain }, metadata: {} }
];

/** A kernel that answers each code with scripted outputs (one layer's unit test: the kernel is not under test). */
class ScriptedExecutor implements ICellExecutor {
  readonly label = 'scripted kernel';
  readonly ran: string[] = [];
  readonly files = new Map<string, Uint8Array>();
  constructor(
    private readonly script: (code: string) => NbOutput[] | 'timeout' | 'crash',
    readonly fail?: string
  ) {}
  async execute(code: string): Promise<IExecuted> {
    this.ran.push(code);
    const outputs = this.script(code);
    if (outputs === 'crash') {
      throw new Error('kernel died');
    }
    return outputs === 'timeout'
      ? { outputs: [], status: 'timeout', ms: 5 }
      : { outputs, status: outputs.some(o => o.output_type === 'error') ? 'error' : 'ok', ms: 1 };
  }
  async writeFile(path: string, bytes: Uint8Array): Promise<void> {
    this.files.set(path, bytes);
  }
  async restart(): Promise<void> {}
  async dispose(): Promise<void> {}
}

/** What a provider's agent would serve: outputs by step, artifacts by sha256. */
function sourceOf(outputs: Record<number, NbOutput[]> = {}, artifacts: Uint8Array[] = []): IEvidenceSource {
  const bySha = new Map(artifacts.map(b => [sha256(b), b]));
  return {
    claimedOutputs: async (_runId, step) => outputs[step] ?? null,
    artifact: async sha => bySha.get(sha) ?? null
  };
}

/** Five cells of an honest run, and a kernel that prints what they printed. */
const honest: IRunStep[] = [
  { source: 'import math', outputs: [] },
  { source: 'print(1 + 1)', outputs: out('2\n') },
  { source: 'print(math.pi)', outputs: out('3.141592653589793\n') },
  { source: 'x = [i * i for i in range(4)]\nx', outputs: result('[0, 1, 4, 9]') },
  { source: 'print(sum(x))', outputs: out('14\n') }
];
const kernelFor = (steps: IRunStep[]) => {
  const table = new Map(steps.map(s => [s.source, s.outputs]));
  return new ScriptedExecutor(code => table.get(code) ?? out(`unknown code ${code}\n`));
};
const execution: IVerifyOptions = { level: 'execution' };

describe('verifyNotebook, execution level', () => {
  it('verifies an honest run: every step identical, a result root over the reproduced outputs', async () => {
    const run = signedRun(honest);
    const kernel = kernelFor(honest);
    const progress: IVerifyProgress[] = [];
    const report = await verifyNotebook(run.notebook, run.evidence, kernel, sourceOf(), {
      ...execution,
      onProgress: p => progress.push(p)
    });
    expect(report.outcome).toBe('verified');
    expect(report.steps.map(s => s.verdict)).toEqual(Array(5).fill('identical'));
    expect(report.summary).toBe('5 cells reproduced on scripted kernel: 5 identical');
    expect(kernel.ran).toEqual(honest.map(s => s.source));
    const root = new ReceiptTree(honest.map(s => outputHash(s.outputs, run.salt))).root;
    expect(report.attestation).toEqual({
      verdict: 'reproduced',
      receiptCount: 5,
      resultRoot: root,
      score: '0'
    });
    expect(progress.map(p => p.message)[2]).toBe('cell 3 of 5 (step 2): reproduced, identical');
    expect(progress[4]).toMatchObject({ done: 5, total: 5 });
    const records = verificationRecords(report, '2026-11-25T12:00:00.000Z', '0xverifier');
    expect(records).toHaveLength(5);
    expect(records[1]).toMatchObject({
      runId: run.evidence.runs[0].runId,
      cellId: 'cell-1',
      step: 1,
      level: 'reproduced',
      method: 'execution',
      executor: 'scripted kernel',
      verdict: 'identical',
      verifier: '0xverifier',
      at: '2026-11-25T12:00:00.000Z'
    });
  });

  it('finds tampered digits exactly on the tampered steps', async () => {
    const steps = honest.map((s, i) =>
      i === 1 ? { ...s, signedOutputs: out('3\n') } : i === 4 ? { ...s, signedOutputs: out('15\n') } : s
    );
    const run = signedRun(steps);
    const report = await verifyNotebook(run.notebook, run.evidence, kernelFor(honest), sourceOf(), execution);
    expect(report.outcome).toBe('mismatch');
    expect(report.steps.filter(s => s.verdict === 'differs').map(s => s.step)).toEqual([1, 4]);
    expect(report.steps.filter(s => s.verdict === 'identical').map(s => s.step)).toEqual([0, 2, 3]);
    expect(report.summary).toBe('2 of 5 cells differ: steps 1, 4');
    expect(report.steps[1].detail).toContain('expected "3\\n", reproduced "2\\n"');
    expect(report.attestation).toMatchObject({ verdict: 'mismatch', score: '2', receiptCount: 5 });
    const records = verificationRecords(report, 'now');
    expect(records.filter(r => r.level === 'mismatch').map(r => r.step)).toEqual([1, 4]);
  });

  it('catches skipped execution: empty signed outputs where the cell prints', async () => {
    const run = signedRun(honest.map(s => ({ ...s, signedOutputs: [] })));
    const report = await verifyNotebook(run.notebook, run.evidence, kernelFor(honest), sourceOf(), execution);
    expect(report.outcome).toBe('mismatch');
    // Step 0 prints nothing either way: skipping it cannot be seen in its outputs.
    expect(report.steps.map(s => s.verdict)).toEqual([
      'identical',
      'differs',
      'differs',
      'differs',
      'differs'
    ]);
  });

  it('accepts numeric noise within the tolerance a cell is tagged with, and not beyond', async () => {
    const noisy: IRunStep[] = [
      { source: 'print(loss)', outputs: out('loss 0.500120\n'), tags: ['ain:rtol=1e-3'] },
      { source: 'print(acc)', outputs: out('acc 0.91\n') }
    ];
    const run = signedRun(noisy);
    const kernel = new ScriptedExecutor(code =>
      code === 'print(loss)' ? out('loss 0.500180\n') : out('acc 0.92\n')
    );
    const report = await verifyNotebook(run.notebook, run.evidence, kernel, sourceOf(), execution);
    expect(report.steps.map(s => s.verdict)).toEqual(['within-tolerance', 'differs']);
    expect(report.steps[0].detail).toBe(
      'Reproduced on scripted kernel: numbers within tolerance (rtol 0.001, atol 1e-8).'
    );
    const tagged = signedRun([noisy[0]]);
    const ok = await verifyNotebook(tagged.notebook, tagged.evidence, kernel, sourceOf(), execution);
    expect(ok.outcome).toBe('verified');
    expect(ok.summary).toBe('1 cell reproduced on scripted kernel: 1 within tolerance');
  });

  it('calls saved outputs that were edited after the run unsigned, unless the source has the signed ones', async () => {
    const steps = honest.map((s, i) => (i === 2 ? { ...s, savedOutputs: out('3.14\n') } : s));
    const run = signedRun(steps);
    const report = await verifyNotebook(run.notebook, run.evidence, kernelFor(honest), sourceOf(), execution);
    expect(report.outcome).toBe('mismatch');
    expect(report.steps[2].verdict).toBe('unsigned-outputs');
    expect(report.steps[2].detail).toContain('saved in the notebook are not the ones the provider signed');
    expect(report.summary).toBe('1 of 5 cells differ: steps 2 (outputs the provider did not sign: steps 2)');
    const fromAgent = sourceOf({ 2: honest[2].outputs });
    const fixed = await verifyNotebook(run.notebook, run.evidence, kernelFor(honest), fromAgent, execution);
    expect(fixed.outcome).toBe('verified');
  });

  it("takes an earlier execution's outputs of a re-run cell from the source, salt-checked", async () => {
    const code = 'n += 1\nprint(n)';
    const steps: IRunStep[] = [
      { source: 'n = 0', outputs: [], cellId: 'a' },
      { source: code, outputs: out('1\n'), cellId: 'c' },
      { source: code, outputs: out('2\n'), cellId: 'c' }
    ];
    const run = signedRun(steps);
    const counting = () => {
      let n = 0;
      return new ScriptedExecutor(c => (c === code ? out(`${++n}\n`) : []));
    };
    // The notebook holds only the cell's latest outputs (step 2's).
    const alone = await verifyNotebook(run.notebook, run.evidence, counting(), sourceOf(), execution);
    expect(alone.steps.map(s => s.verdict)).toEqual(['identical', 'unavailable', 'identical']);
    expect(alone.summary).toBe('2 cells reproduced on scripted kernel: 2 identical; 1 not compared: steps 1');
    const forged = await verifyNotebook(
      run.notebook,
      run.evidence,
      counting(),
      sourceOf({ 1: out('7\n') }),
      execution
    );
    expect(forged.steps[1].verdict).toBe('unsigned-outputs');
    const agent = await verifyNotebook(
      run.notebook,
      run.evidence,
      counting(),
      sourceOf({ 1: out('1\n') }),
      execution
    );
    expect(agent.steps.map(s => s.verdict)).toEqual(['identical', 'identical', 'identical']);
  });

  it('goes on past a step whose code is not in the notebook, and says that the state may differ', async () => {
    const run = signedRun(honest);
    run.notebook.cells[0].source = 'import cmath';
    const report = await verifyNotebook(run.notebook, run.evidence, kernelFor(honest), sourceOf(), execution);
    expect(report.steps.map(s => s.verdict)).toEqual([
      'unavailable',
      'identical',
      'identical',
      'identical',
      'identical'
    ]);
    expect(report.steps[0].detail).toMatch(/^No cell of the notebook has the code step 0 ran/);
    expect(report.outcome).toBe('verified');
    expect(report.summary).toContain(
      'the code of steps 0 is not in the notebook, so later steps ran without its effects'
    );
  });

  it('reports an error, not a verdict, without the run salt, without receipts, or when the kernel fails', async () => {
    const run = signedRun(honest);
    const saltless = { ...run.evidence, runs: [{ ...run.evidence.runs[0], salt: undefined }] };
    const a = await verifyNotebook(run.notebook, saltless, kernelFor(honest), sourceOf(), execution);
    expect(a.outcome).toBe('error');
    expect(a.error).toContain("lacks its run's salt");
    const b = await verifyNotebook(
      run.notebook,
      { ...run.evidence, receipts: [] },
      kernelFor(honest),
      sourceOf(),
      execution
    );
    expect(b.error).toContain('no run with receipts');
    const crashing = new ScriptedExecutor(code => (code.includes('pi') ? 'crash' : out('2\n')));
    const c = await verifyNotebook(run.notebook, run.evidence, crashing, sourceOf(), execution);
    expect(c.outcome).toBe('error');
    expect(c.error).toBe('The kernel (scripted kernel) failed at step 2: kernel died');
  });

  it('refuses a malformed comparison tag before running anything, and gives up on a cell that times out', async () => {
    const run = signedRun(honest.map((s, i) => (i === 4 ? { ...s, tags: ['ain:rtol=lots'] } : s)));
    const kernel = kernelFor(honest);
    const bad = await verifyNotebook(run.notebook, run.evidence, kernel, sourceOf(), execution);
    expect(bad.outcome).toBe('error');
    expect(bad.error).toContain('Tag "ain:rtol=lots" is invalid');
    expect(kernel.ran).toEqual([]);
    const slow = signedRun(honest);
    const stuck = new ScriptedExecutor(code =>
      code.includes('pi') ? 'timeout' : (honest.find(h => h.source === code)?.outputs ?? [])
    );
    const report = await verifyNotebook(slow.notebook, slow.evidence, stuck, sourceOf(), {
      ...execution,
      cellTimeoutMs: 90_000
    });
    expect(report.steps[2]).toMatchObject({
      verdict: 'unavailable',
      detail: 'Did not finish within 90 s on scripted kernel (interrupted); not compared.'
    });
    expect(report.outcome).toBe('verified');
    expect(report.summary).toBe(
      '4 cells reproduced on scripted kernel: 4 identical; 1 not compared: steps 2'
    );
  });

  it('refuses receipts the provider did not sign', async () => {
    const run = signedRun(honest);
    const other = signedRun(honest, { key: '0x' + '11'.repeat(32), salt: run.salt });
    const evidence = {
      ...run.evidence,
      receipts: [...run.evidence.receipts.slice(0, 3), ...other.evidence.receipts.slice(3)]
    };
    const report = await verifyNotebook(run.notebook, evidence, kernelFor(honest), sourceOf(), execution);
    expect(report.steps.map(s => s.verdict)).toEqual([
      'identical',
      'identical',
      'identical',
      'unsigned-outputs',
      'unsigned-outputs'
    ]);
    expect(report.steps[3].detail).toContain('was not signed by the run');
  });
});

describe('verifyNotebook, checkpoint level', () => {
  // 40 cells anchored in 10 checkpoints of 4.
  const many: IRunStep[] = Array.from({ length: 40 }, (_, i) => ({
    source: `print(${i})`,
    outputs: out(`${i}\n`)
  }));
  const secret = sha256('client secret');
  const blockHash = sha256('a later block');
  const anchoredOf = (run: ReturnType<typeof signedRun>) =>
    Array.from({ length: 10 }, (_, index) => ({
      index,
      root: new ReceiptTree(run.evidence.receipts.slice(0, 4 * (index + 1)).map(r => r.digest)).root,
      receiptCount: 4 * (index + 1)
    }));

  it('re-checks the sampled checkpoints only, after running every step before them', async () => {
    const sampled = sampleCheckpoints({ n: 10, k: 3, seed: deriveSamplingSeed(secret, blockHash) });
    // One falsified cell inside a sampled checkpoint, one outside any: only the first can be seen.
    const inside = 4 * sampled[1] + 2;
    const outside = [...Array(40).keys()].find(i => !sampled.includes(Math.floor(i / 4))) as number;
    const run = signedRun(
      many.map((s, i) => (i === inside || i === outside ? { ...s, signedOutputs: out('tampered\n') } : s))
    );
    const kernel = kernelFor(many);
    const report = await verifyNotebook(run.notebook, run.evidence, kernel, sourceOf(), {
      level: 'checkpoint',
      sampling: { anchored: anchoredOf(run), secret, blockHash, samples: 3 }
    });
    expect(report.checkpoint?.sampledIndexes).toEqual(sampled);
    const checked = sampled.flatMap(c => [4 * c, 4 * c + 1, 4 * c + 2, 4 * c + 3]);
    const compared = report.steps.filter(s => s.verdict !== 'not-sampled').map(s => s.step);
    expect(compared).toEqual(checked);
    expect(kernel.ran).toHaveLength(checked[checked.length - 1] + 1);
    // 12 falsified cells fill 3 of the 10 checkpoints at least: 1 - C(7,3)/C(10,3), from Python's math.comb.
    expect(report.checkpoint?.probability).toBeCloseTo(0.7083333333333334, 12);
    expect(report.checkpoint?.statement).toBe(
      '3 of 10 checkpoints (12 of 40 cells); >= 70% if 30% of cells were falsified'
    );
    expect(report.outcome).toBe('mismatch');
    expect(report.steps.filter(s => s.verdict === 'differs').map(s => s.step)).toEqual([inside]);
    expect(report.steps[outside].verdict).toBe('not-sampled');
    const records = verificationRecords(report, 'now');
    expect(records.map(r => r.step)).toEqual(checked);
    const passed = records.find(r => r.level === 'checkpoint-checked');
    expect(passed?.detail).toContain('Checked by sampling: 3 of 10 checkpoints');
  });

  it('calls a sampled checkpoint whose anchored root contradicts the signed receipts a mismatch', async () => {
    const run = signedRun(many);
    const anchored = anchoredOf(run);
    const all = { anchored, secret, blockHash, samples: 10 };
    anchored[6] = { ...anchored[6], root: sha256('something else') };
    const report = await verifyNotebook(run.notebook, run.evidence, kernelFor(many), sourceOf(), {
      level: 'checkpoint',
      sampling: all
    });
    expect(report.outcome).toBe('mismatch');
    expect(report.checkpoint?.contradicted?.map(c => c.index)).toEqual([6]);
    expect(report.summary).toContain("checkpoint 6's anchored root");
    const records = verificationRecords(report, 'now');
    expect(records.filter(r => r.level === 'mismatch').map(r => r.step)).toEqual([24, 25, 26, 27]);
    expect(report.attestation.score).toBe('1');
  });

  it('counts only the cells it could compare in the probability, and says which roots it could not recompute', async () => {
    const run = signedRun(many);
    const all = { anchored: anchoredOf(run), secret, blockHash, samples: 10 };
    // The notebook lost the receipts of steps 38 and 39, and has no outputs for the cell of step 5.
    const evidence = { ...run.evidence, receipts: run.evidence.receipts.slice(0, 38) };
    delete run.notebook.cells[5].outputs;
    const report = await verifyNotebook(run.notebook, evidence, kernelFor(many), sourceOf(), {
      level: 'checkpoint',
      sampling: all
    });
    // Checkpoints 1 (steps 4-7, step 5 not compared) and 9 (steps 36-39, no receipts for 38 and 39) count for none.
    expect(report.checkpoint?.cellsChecked).toBe(32);
    expect(report.checkpoint?.statement).toBe(
      '8 of 10 checkpoints (32 of 40 cells); >= 100% if 30% of cells were falsified'
    );
    expect(report.steps[5].verdict).toBe('unavailable');
    expect(report.outcome).toBe('verified');
    expect(report.summary).toContain(
      "checkpoint 9's root was not recomputed: the notebook lacks the receipts of steps 38, 39"
    );
  });

  it('needs an anchored checkpoint to sample', async () => {
    const run = signedRun(many);
    const report = await verifyNotebook(run.notebook, run.evidence, kernelFor(many), sourceOf(), {
      level: 'checkpoint',
      sampling: { anchored: [], secret, blockHash, samples: 3 }
    });
    expect(report.error).toContain('no anchored checkpoint to sample');
  });

  it('needs the sampling from the chain', async () => {
    const run = signedRun(many);
    const report = await verifyNotebook(run.notebook, run.evidence, kernelFor(many), sourceOf(), {
      level: 'checkpoint'
    });
    expect(report.outcome).toBe('error');
    expect(report.error).toContain('revealed sampling secret');
  });
});

describe('verifyNotebook, solution level', () => {
  const model = utf8('a trained model');
  const otherModel = utf8('another model');
  const artifact = (bytes: Uint8Array, path = 'outputs/model.pkl'): IArtifact => ({
    path,
    size: bytes.length,
    sha256: sha256(bytes)
  });
  const objectiveCode =
    'import pickle\nm = pickle.load(open("outputs/model.pkl", "rb"))\naccuracy = m.score()\naccuracy';
  const training = (claimed: string, artifacts = [artifact(model)]): IRunStep[] => [
    { source: 'train()', outputs: out('epoch 1\n'), artifacts },
    { source: objectiveCode, outputs: result(claimed), tags: ['ain:objective>=0.9'] }
  ];
  // The objective cell's metric depends on which model file it finds.
  const kernelWith = (files: Map<string, Uint8Array>) =>
    new ScriptedExecutor(code => {
      if (code !== objectiveCode) {
        throw new Error(`only the objective cell may run, not ${code}`);
      }
      const bytes = files.get('outputs/model.pkl');
      return result(bytes && sha256(bytes) === sha256(model) ? 'np.float64(0.967)' : '0.5');
    });

  it('recomputes the metric from the committed artifact, without re-running training', async () => {
    const run = signedRun(training('np.float64(0.967)'));
    const files = new Map<string, Uint8Array>();
    const kernel = kernelWith(files);
    kernel.writeFile = async (p, b) => void files.set(p, b);
    const report = await verifyNotebook(run.notebook, run.evidence, kernel, sourceOf({}, [model]), {
      level: 'solution'
    });
    expect(report.outcome).toBe('verified');
    expect(report.steps).toHaveLength(1);
    expect(report.steps[0]).toMatchObject({
      step: 1,
      verdict: 'objective-pass',
      objective: { recomputed: 0.967, claimed: 0.967 }
    });
    expect(report.summary).toBe(
      'Objective met: accuracy 0.967 recomputed from outputs/model.pkl (claimed 0.967; rule >= 0.9)'
    );
    expect(report.attestation).toMatchObject({
      verdict: 'objective',
      score: '967000000000000000',
      receiptCount: 2
    });
    const root = new ReceiptTree([ZERO_HASH, outputHash(result('np.float64(0.967)'), run.salt)]).root;
    expect(report.attestation.resultRoot).toBe(root);
    expect(verificationRecords(report, 'now')[0]).toMatchObject({
      level: 'objective-verified',
      method: 'solution',
      objective: { metric: 0.967, claimed: 0.967, rule: 'ain:objective>=0.9' }
    });
  });

  it('fails when the provider claimed a metric the artifacts do not give', async () => {
    const run = signedRun(training('0.99'));
    const files = new Map<string, Uint8Array>();
    const kernel = kernelWith(files);
    kernel.writeFile = async (p, b) => void files.set(p, b);
    const report = await verifyNotebook(run.notebook, run.evidence, kernel, sourceOf({}, [model]), {
      level: 'solution'
    });
    expect(report.outcome).toBe('mismatch');
    expect(report.steps[0].verdict).toBe('objective-fail');
    expect(report.steps[0].detail).toContain('the provider claimed 0.99, but the metric recomputes to 0.967');
    expect(report.attestation).toMatchObject({ verdict: 'mismatch', score: '1' });
  });

  it('fails when the served artifact is not the committed one, or the list does not match the receipt', async () => {
    const run = signedRun(training('np.float64(0.967)'));
    const swapped = sourceOf({}, [otherModel]);
    const bySha = { claimedOutputs: swapped.claimedOutputs, artifact: async () => otherModel };
    const kernel = kernelWith(new Map());
    const served = await verifyNotebook(run.notebook, run.evidence, kernel, bySha, { level: 'solution' });
    expect(served.outcome).toBe('mismatch');
    expect(served.steps[0].detail).toContain('the bytes served for artifact outputs/model.pkl');
    expect(kernel.ran).toEqual([]);
    // The provider committed to one model but lists another in the notebook.
    const listed = structuredClone(run.evidence);
    listed.receipts[0].artifacts = [artifact(otherModel)];
    const report = await verifyNotebook(run.notebook, listed, kernel, sourceOf({}, [otherModel]), {
      level: 'solution'
    });
    expect(report.outcome).toBe('mismatch');
    expect(report.steps[0].detail).toContain("do not hash to its receipt's artifactsHash");
  });

  it('needs an objective cell', async () => {
    const run = signedRun(honest);
    const report = await verifyNotebook(run.notebook, run.evidence, kernelFor(honest), sourceOf(), {
      level: 'solution'
    });
    expect(report.outcome).toBe('error');
    expect(report.error).toContain('tag the cell that prints the metric with ain:objective>=');
  });
});
