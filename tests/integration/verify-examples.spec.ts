/**
 * The examples verified against real processes: anvil, two `ain provider start` child processes (an honest one
 * and one started with `--fault tamper-outputs`), each notebook's cells driven through /runs/{id}/jupyter with
 * @jupyterlab/services as JupyterLab would, and the verifier's own local kernel (ain verify's local executor: a uv
 * environment of the example's requirements.txt, a jupyter server, ipykernel).
 * - train-classifier, solution level: the verifier fetches the model the receipts commit to from the agent by its
 *   sha256 and runs only the objective cell;
 * - seeded-analysis and noisy-results, execution level: every cell re-executed and compared.
 * Environments live in the shared test cache, so only a machine's first run installs scikit-learn and pandas.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Wallet } from 'ethers';
import { tamperText } from '../../src/agent/faults';
import { readMetric } from '../../src/core/verify-objective';
import { verificationRecords, verifyNotebook } from '../../src/core/verify-run';
import type { IVerificationReport, VerificationLevel } from '../../src/core/verification';
import { devPrivateKey } from '../../src/chain/dev-chain';
import { NodeEvidenceSource } from '../../src/cli/verify-evidence-source';
import { startLocalExecutor } from '../../src/cli/verify-executor-local';
import { IChainFixture, startChainFixture } from './chain-fixture';
import { leftoversAfter } from './agent-kernel-fixture';
import { IAgentProcess, buildCli, startAgentProcess, stopAllProcesses } from './cli-process-fixture';
import {
  IProviderRun,
  Step,
  ROOT_EXAMPLES,
  TRAIN_NOTEBOOK,
  cellById,
  dataDirWithSharedEnvironments,
  runOnProvider
} from './verify-examples-fixture';

jest.setTimeout(600_000);

/** The notebook's cells in order: load, split, train (commits outputs/model.pkl), objective. */
const HONEST: Step[] = [{ cell: 'train-1' }, { cell: 'train-3' }, { cell: 'train-4' }, { cell: 'train-6' }];

describe('the examples, verified against real agents (real chain, local verifier kernel)', () => {
  let chain: IChainFixture;
  let dir: string;
  let deploymentFile: string;
  let honest: IAgentProcess;
  let tamper: IAgentProcess;
  let honestRun: IProviderRun;

  const agentArgs = (account: number, name: string) => [
    '--deployment', deploymentFile,
    '--dev-account', String(account),
    '--port', '0',
    '--data-dir', dataDirWithSharedEnvironments(path.join(dir, name)),
    '--price', '3600',
    '--min-escrow-seconds', '5',
    '--checkpoint-receipts', '2',
    '--checkpoint-seconds', '0',
    '--log-level', 'warn'
  ]; // prettier-ignore

  /** Verification of a run's saved notebook in a fresh local kernel, claimed outputs and artifacts from the agent. */
  async function verify(
    run: IProviderRun,
    level: VerificationLevel = 'solution',
    notebook = TRAIN_NOTEBOOK,
    source = new NodeEvidenceSource({ evidence: run.evidence, agent: run.agent })
  ): Promise<IVerificationReport> {
    const executor = await startLocalExecutor({
      notebook,
      dataDir: dataDirWithSharedEnvironments(mkdtempSync(path.join(dir, 'verifier-')))
    });
    try {
      return await verifyNotebook(run.notebook, run.evidence, executor, source, { level });
    } finally {
      await executor.dispose();
    }
  }

  const claimedIn = (run: IProviderRun) => readMetric(cellById(run.notebook, 'train-6').outputs);
  const modelOf = (run: IProviderRun, step: number) =>
    run.receipts[step].artifacts?.find(a => a.path === 'outputs/model.pkl');

  beforeAll(async () => {
    buildCli();
    dir = mkdtempSync(path.join(tmpdir(), 'ain-verify-examples-'));
    chain = await startChainFixture();
    deploymentFile = path.join(dir, 'deployment.json');
    writeFileSync(deploymentFile, JSON.stringify(chain.deployment));
    honest = await startAgentProcess(agentArgs(1, 'honest'));
    tamper = await startAgentProcess([...agentArgs(3, 'tamper'), '--fault', 'tamper-outputs']);
  });

  afterAll(async () => {
    await stopAllProcesses();
    await chain?.stop();
    expect(await leftoversAfter(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes on an honest provider: the accuracy recomputed from the committed model is the claimed one', async () => {
    honestRun = await runOnProvider({
      url: honest.url,
      client: chain.client,
      provider: new Wallet(devPrivateKey(1)).address,
      notebookFile: TRAIN_NOTEBOOK,
      steps: HONEST
    });
    const model = modelOf(honestRun, 2);
    expect(model).toBeDefined();
    const claimed = claimedIn(honestRun);
    expect(claimed).toBeGreaterThanOrEqual(0.9);

    const report = await verify(honestRun);
    expect(report.error).toBeUndefined();
    expect(report.outcome).toBe('verified');
    expect(report.steps).toHaveLength(1);
    const [objective] = report.steps;
    expect(objective).toMatchObject({ step: 3, cellId: 'train-6', verdict: 'objective-pass' });
    expect(objective.objective!.claimed).toBe(claimed);
    expect(objective.objective!.recomputed).toBe(claimed);
    expect(objective.detail).toContain('outputs/model.pkl');
    expect(report.attestation.verdict).toBe('objective');
    const records = verificationRecords(report, new Date().toISOString());
    expect(records).toEqual([
      expect.objectContaining({
        cellId: 'train-6',
        level: 'objective-verified',
        objective: expect.objectContaining({ metric: claimed, claimed })
      })
    ]);
  });

  it("a third party without the client's key verifies the objective once the client published the run", async () => {
    const notes: string[] = [];
    const thirdParty = () =>
      verify(
        honestRun,
        'solution',
        TRAIN_NOTEBOOK,
        new NodeEvidenceSource({ evidence: honestRun.evidence, onNote: n => notes.push(n) })
      );
    const { runId } = honestRun;
    const model = modelOf(honestRun, 2)!;
    const anonymous = (p: string) => fetch(`${honest.url}${p}`);
    // Private until published: the committed model is out of reach, so the objective cannot be recomputed.
    expect((await anonymous(`/runs/${runId}/public/receipts`)).status).toBe(404);
    expect((await anonymous(`/runs/${runId}/public/artifacts/${model.sha256}`)).status).toBe(404);
    const before = await thirdParty();
    expect(before.outcome).not.toBe('verified');
    expect(notes.join('\n')).toContain(`Run ${runId} is not published at ${honest.url}`);

    expect((await honestRun.agent.publishRun(runId)).runId).toBe(runId);
    const after = await thirdParty();
    expect(after.error).toBeUndefined();
    expect(after.outcome).toBe('verified');
    expect(after.steps[0]).toMatchObject({ cellId: 'train-6', verdict: 'objective-pass' });
    expect(after.steps[0].objective!.recomputed).toBe(claimedIn(honestRun));
    // Public now, to anyone: the receipts with their outputs, and only the files they committed to.
    const receipts = (await (await anonymous(`/runs/${runId}/public/receipts`)).json()).receipts;
    expect(receipts).toHaveLength(honestRun.receipts.length);
    expect((await anonymous(`/runs/${runId}/public/artifacts/${'0x' + 'ab'.repeat(32)}`)).status).toBe(404);
    expect((await anonymous(`/runs/${'0x' + 'cd'.repeat(32)}/public/receipts`)).status).toBe(404);
  });

  it('fails when the provider shows an accuracy its committed model does not have (fault tamper-outputs)', async () => {
    const run = await runOnProvider({
      url: tamper.url,
      client: chain.client,
      provider: new Wallet(devPrivateKey(3)).address,
      notebookFile: TRAIN_NOTEBOOK,
      steps: HONEST
    });
    const honestClaim = claimedIn(honestRun)!;
    // The committed model is the real one (training is deterministic: byte for byte the honest run's model)...
    expect(modelOf(run, 2)!.sha256).toBe(modelOf(honestRun, 2)!.sha256);
    // ...and the accuracy the provider shows and signed is not what that model scores.
    const claimed = claimedIn(run);
    expect(claimed).toBe(Number(tamperText(String(honestClaim))));

    const report = await verify(run);
    expect(report.outcome).toBe('mismatch');
    const [objective] = report.steps;
    expect(objective).toMatchObject({ cellId: 'train-6', verdict: 'objective-fail' });
    expect(objective.objective).toMatchObject({ claimed, recomputed: honestClaim });
    expect(objective.detail).toContain(`the provider claimed ${claimed}`);
    expect(verificationRecords(report, new Date().toISOString())[0].level).toBe('mismatch');
  });

  it('fails when the receipts commit to a different model than the one the claimed accuracy came from', async () => {
    // An honest agent binary; the run's kernel does what a cheating provider's would: it keeps the good model
    // aside, re-runs the notebook's training cell (same code, same cell id) on 300 images so that the training
    // receipt commits a cheaper model, then puts the good model back with its file time set to 1970, which the
    // agent's artifact scan (files changed while a cell ran) does not see. The objective cell then shows the good
    // model's accuracy, signed, next to a receipt chain whose latest model is the cheap one.
    const steps: Step[] = [
      { cell: 'train-1' },
      { cell: 'train-3' },
      { cell: 'train-4' },
      {
        why: 'keep the good model aside, train the next model on 300 images',
        code: [
          'import os, shutil',
          "os.makedirs('.aside', exist_ok=True)",
          "shutil.copyfile('outputs/model.pkl', '.aside/model.pkl')",
          'X_train, y_train = X_train[:300], y_train[:300]'
        ].join('\n')
      },
      { cell: 'train-4' },
      {
        why: 'put the good model back, hidden from the artifact scan',
        code: [
          "shutil.copyfile('.aside/model.pkl', 'outputs/model.pkl')",
          "os.utime('outputs/model.pkl', (0, 0))"
        ].join('\n')
      },
      { cell: 'train-6' }
    ];
    const run = await runOnProvider({
      url: honest.url,
      client: chain.client,
      provider: new Wallet(devPrivateKey(1)).address,
      notebookFile: TRAIN_NOTEBOOK,
      steps
    });
    const honestClaim = claimedIn(honestRun)!;
    expect(claimedIn(run)).toBe(honestClaim);
    const good = modelOf(run, 2)!;
    const cheap = modelOf(run, 4)!;
    expect(good.sha256).toBe(modelOf(honestRun, 2)!.sha256);
    expect(cheap.sha256).not.toBe(good.sha256);
    expect(run.receipts[5].artifacts).toEqual([]);

    const report = await verify(run);
    expect(report.outcome).toBe('mismatch');
    const [objective] = report.steps;
    expect(objective).toMatchObject({ step: 6, cellId: 'train-6', verdict: 'objective-fail' });
    expect(objective.objective!.claimed).toBe(honestClaim);
    // The cheap model clears the threshold: only the claimed accuracy, which it does not have, gives it away.
    expect(objective.objective!.recomputed).toBeGreaterThanOrEqual(0.9);
    expect(objective.objective!.recomputed).toBeLessThan(honestClaim);
    expect(objective.detail).toContain(`the provider claimed ${honestClaim}, but the metric recomputes to`);
  });

  it('the seeded analysis reproduces identically on a local kernel (execution level)', async () => {
    const notebook = path.join(ROOT_EXAMPLES, 'seeded-analysis', 'seeded-analysis.ipynb');
    const run = await runOnProvider({
      url: honest.url,
      client: chain.client,
      provider: new Wallet(devPrivateKey(1)).address,
      notebookFile: notebook,
      steps: ['seeded-1', 'seeded-2', 'seeded-3', 'seeded-5'].map(cell => ({ cell }))
    });
    const report = await verify(run, 'execution', notebook);
    expect(report.error).toBeUndefined();
    expect(report.outcome).toBe('verified');
    expect(report.steps.map(s => [s.cellId, s.verdict])).toEqual([
      ['seeded-1', 'identical'],
      ['seeded-2', 'identical'],
      ['seeded-3', 'identical'],
      ['seeded-5', 'identical']
    ]);
  });

  it('the noisy results reproduce within their tagged tolerances, every other cell identically', async () => {
    const notebook = path.join(ROOT_EXAMPLES, 'noisy-results', 'noisy-results.ipynb');
    const run = await runOnProvider({
      url: honest.url,
      client: chain.client,
      provider: new Wallet(devPrivateKey(1)).address,
      notebookFile: notebook,
      steps: ['noisy-1', 'noisy-3', 'noisy-5', 'noisy-6', 'noisy-7'].map(cell => ({ cell }))
    });
    const report = await verify(run, 'execution', notebook);
    expect(report.error).toBeUndefined();
    expect(report.outcome).toBe('verified');
    const verdicts = Object.fromEntries(report.steps.map(s => [s.cellId, s.verdict]));
    expect(verdicts).toMatchObject({
      'noisy-1': 'identical',
      'noisy-6': 'identical',
      'noisy-7': 'identical'
    });
    // An unseeded estimate (6 decimals) and an order-dependent float sum (17 digits) come out the same twice
    // with a chance below 1e-3 each: the two together, well below 1e-5.
    const noisy = [verdicts['noisy-3'], verdicts['noisy-5']];
    noisy.forEach(v => expect(['within-tolerance', 'identical']).toContain(v));
    expect(noisy).toContain('within-tolerance');
  });
});
