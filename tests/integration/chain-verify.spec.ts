/**
 * The chain's part in verification on a real anvil: the checkpoint sampling a verifier reads (anchored checkpoints,
 * the client's revealed secret and its block's hash), a checkpoint verification it drives on a real kernel (the
 * local executor: uv environment, jupyter server, ipykernel), and the attestation of the report, with the refusals
 * a verifier can meet. No mocks.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Verdict } from '../../src/chain/attestation';
import { attestReport, readCheckpointSampling } from '../../src/chain/verify-chain';
import { startLocalExecutor } from '../../src/cli/verify-executor-local';
import { isAinError } from '../../src/core/errors';
import { utf8 } from '../../src/core/hash';
import { ReceiptTree } from '../../src/core/merkle';
import { deriveSamplingSeed, sampleCheckpoints } from '../../src/core/sampling';
import type { IEvidenceSource, IVerificationReport } from '../../src/core/verification';
import { verifyNotebook } from '../../src/core/verify-run';
import { IRunStep, signedRun } from '../fixtures/lab-evidence';
import { ENV_CACHE } from './agent-kernel-fixture';
import { IChainFixture, random32, startChainWithProvider, TOKEN } from './chain-fixture';

jest.setTimeout(300_000);

const noSource: IEvidenceSource = { claimedOutputs: async () => null, artifact: async () => null };

async function refusal(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a refusal');
}

describe('verification against a real chain', () => {
  let f: IChainFixture;
  let dir: string;

  beforeAll(async () => {
    f = await startChainWithProvider(TOKEN(36));
    dir = mkdtempSync(path.join(tmpdir(), 'ain-chain-verify-'));
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('samples checkpoints from the revealed secret, re-checks them on a kernel and attests the result', async () => {
    const secret = random32();
    const { runId } = await f.client.runs.openRun({
      provider: f.provider.address,
      bundleHash: '0x' + 'cd'.repeat(32),
      nonce: 1n,
      samplingSecret: secret,
      escrow: TOKEN(100),
      pricePerHour: TOKEN(36)
    });
    const domain = f.client.runs.domain;
    // 15 cells, as the provider ran and signed them; outputs are what ipykernel prints for them.
    const steps: IRunStep[] = Array.from({ length: 15 }, (_, i) => ({
      source: i === 0 ? 'total = 0' : `total += ${i}\nprint(total)`,
      outputs: i === 0 ? [] : [{ output_type: 'stream', name: 'stdout', text: `${(i * (i + 1)) / 2}\n` }]
    }));
    const run = signedRun(steps, { domain, runId, key: f.provider.key });
    const digests = run.evidence.receipts.map(r => r.digest);
    const anchor = (index: number, count: number) =>
      f.provider.runs.anchor(runId, {
        index,
        root: new ReceiptTree(digests.slice(0, count)).root,
        receiptCount: count
      });
    for (let i = 0; i < 4; i++) {
      await anchor(i, 3 * (i + 1));
    }

    const early = await refusal(readCheckpointSampling(f.verifier.runs, runId, 2));
    expect(isAinError(early, 'VERIFY_SECRET_NOT_REVEALED')).toBe(true);
    expect(early.message).toContain('The client must reveal it after the last anchor');

    const reveal = await f.client.runs.revealSamplingSecret(runId, secret);
    // Anchored after the seed became public: the provider could know whether it would be sampled.
    await anchor(4, 15);
    await f.client.runs.revealSamplingSecret(runId, secret);
    const sampling = await readCheckpointSampling(f.verifier.runs, runId, 2);
    const block = await f.verifier.session.provider.getBlock(reveal.blockNumber);
    expect(sampling.secret).toBe(secret);
    expect(sampling.blockHash).toBe(block?.hash);
    expect(sampling.anchored.map(c => [c.index, c.receiptCount])).toEqual([
      [0, 3],
      [1, 6],
      [2, 9],
      [3, 12]
    ]);
    expect(sampling.samples).toBe(2);

    const dataDir = path.join(dir, 'verifier');
    mkdirSync(ENV_CACHE, { recursive: true });
    mkdirSync(dataDir);
    symlinkSync(ENV_CACHE, path.join(dataDir, 'environments'));
    const notebook = { ...run.notebook, metadata: { ...run.notebook.metadata, ain: run.evidence } };
    const executor = await startLocalExecutor({
      files: new Map([['run.ipynb', utf8(JSON.stringify(notebook))]]),
      notebookPath: 'run.ipynb',
      dataDir
    });
    let report: IVerificationReport;
    try {
      report = await verifyNotebook(run.notebook, run.evidence, executor, noSource, {
        level: 'checkpoint',
        sampling
      });
    } finally {
      await executor.dispose();
    }
    const sampled = sampleCheckpoints({
      n: 4,
      k: 2,
      seed: deriveSamplingSeed(secret, block?.hash as string)
    });
    expect(report.checkpoint?.sampledIndexes).toEqual(sampled);
    expect(report.outcome).toBe('verified');
    // N = 15 cells, M = ceil(0.3 * 15) = 5 falsified: 3 after the last anchor, 2 fit in one checkpoint of 3.
    // 2 of the 4 checkpoints checked meet it with 1 - C(3,2)/C(4,2) = 1/2.
    expect(report.checkpoint?.probability).toBeCloseTo(0.5, 12);
    expect(report.checkpoint?.statement).toBe(
      '2 of 4 checkpoints (6 of 15 cells); >= 50% if 30% of cells were falsified'
    );

    const tx = await attestReport(f.stranger.runs, report, domain, f.verifier.session.requireSigner());
    const log = tx.logs
      .map(l => f.stranger.runs.contract.interface.parseLog(l))
      .find(l => l?.name === 'Attested');
    expect(log?.args.verifier).toBe(f.verifier.address);
    expect(Number(log?.args.verdict)).toBe(Verdict.Reproduced);
    expect(Number(log?.args.receiptCount)).toBe(15);
    expect(log?.args.resultRoot).toBe(report.attestation.resultRoot);
    expect(log?.args.score).toBe(0n);

    const twice = await refusal(
      attestReport(f.stranger.runs, report, domain, f.verifier.session.requireSigner())
    );
    expect(isAinError(twice, 'VERIFY_CANNOT_ATTEST')).toBe(true);
    expect(twice.message).toBe(
      `Verifier ${f.verifier.address} has already attested run ${runId}: the contract keeps one attestation per ` +
        'verifier and run, and the earlier one stands. To record this result as well, attest with another key.'
    );
    const own = await refusal(
      attestReport(f.stranger.runs, report, domain, f.provider.session.requireSigner())
    );
    expect(own.message).toContain('is the provider of run');

    // An objective result carries its metric as the score, scaled by 1e18.
    const objective: IVerificationReport = {
      ...report,
      level: 'solution',
      attestation: { ...report.attestation, verdict: 'objective', score: '967000000000000000' }
    };
    const scored = await attestReport(
      f.stranger.runs,
      objective,
      domain,
      f.challenger.session.requireSigner()
    );
    const scoredLog = scored.logs
      .map(l => f.stranger.runs.contract.interface.parseLog(l))
      .find(l => l?.name === 'Attested');
    expect(Number(scoredLog?.args.verdict)).toBe(Verdict.Objective);
    expect(scoredLog?.args.score).toBe(967000000000000000n);

    const failed = await refusal(
      attestReport(
        f.stranger.runs,
        { ...report, outcome: 'error', error: 'no kernel' },
        domain,
        f.stranger.session.requireSigner()
      )
    );
    expect(failed.message).toContain('could not conclude (no kernel)');
    expect(await f.stranger.runs.contract.hasAttested(runId, f.stranger.address)).toBe(false);
  });
});
