/**
 * `ain verify` as a child process (node bin/ain.js) against real providers and a real chain: notebooks run on
 * agents started with `ain provider start` (honest, `--fault tamper-outputs`, `--fault skip-execution`), saved
 * with their evidence, then verified by re-executing them in a fresh local kernel (uv environment from the shared
 * cache, jupyter server, ipykernel) or on another provider. Asserts what a CI job relies on: the exit code, the
 * table, the JSON report and the JUnit file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildCli, runAin, stopAllProcesses } from './cli-process-fixture';
import {
  ICell,
  ITestProvider,
  IVerifyWorld,
  runNotebook,
  startVerifyWorld,
  verifierDataDir
} from './verify-fixture';

jest.setTimeout(900_000);

/** Five cells: cells 1 and 3 print digits (what tamper-outputs alters), 0 prints nothing, 2 and 4 no digits. */
export const FIVE_CELLS: ICell[] = [
  { source: "values = [float(v) for v in open('data/values.csv').read().split(',')]" },
  { source: 'print(sum(values))' },
  { source: "print('hello from the notebook')" },
  { source: 'total = round(sum(values) * 2, 6)\ntotal' },
  // The verifier's kernel must see the bundle's files, and only those, where the provider's saw them.
  { source: "import os\nsorted(os.listdir('.'))" }
];
export const DATA = { 'data/values.csv': '1.5,2.25,3.125' };

/** JUnit counts read by Python's XML parser (a real parser, not a regular expression). */
function junitCounts(file: string): Record<string, string> {
  const script =
    'import json, sys, xml.etree.ElementTree as ET\n' +
    'root = ET.parse(sys.argv[1]).getroot()\n' +
    "print(json.dumps({**root.attrib, 'cases': len(list(root.iter('testcase')))}))";
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

describe('ain verify (real providers, real chain, local kernel)', () => {
  let dir: string;
  let world: IVerifyWorld;
  let rpc: string;
  const providers = new Map<string, ITestProvider>();
  const provider = async (fault: string) => {
    if (!providers.has(fault)) {
      const account = { honest: 6, 'tamper-outputs': 7, 'skip-execution': 8 }[fault] as number;
      providers.set(fault, await world.startProvider(account, fault === 'honest' ? undefined : fault));
    }
    return providers.get(fault)!;
  };
  const verify = (file: string, ...args: string[]) =>
    runAin(['verify', file, '--rpc', rpc, '--data', 'data', '--data-dir', verifierDataDir(world), ...args]);

  beforeAll(async () => {
    buildCli();
    dir = mkdtempSync(path.join(tmpdir(), 'ain-verify-cli-'));
    world = await startVerifyWorld(dir);
    rpc = world.chain.anvil.rpcUrl;
  });

  afterAll(async () => {
    await stopAllProcesses();
    await world?.chain.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reproduces an honest run fully on a local kernel: exit 0, every cell in the table, records and JUnit', async () => {
    const ran = await runNotebook(world, await provider('honest'), FIVE_CELLS, { files: DATA });
    const junit = path.join(dir, 'honest.xml');
    const result = await verify(ran.file, '--write', '--junit', junit);
    expect(result.stderr).not.toMatch(/unexpected failure/);
    expect(result.code).toBe(0);
    for (let step = 0; step < FIVE_CELLS.length; step++) {
      expect(result.stdout).toMatch(new RegExp(`^${step}\\s+#${step + 1} cell-${step}\\s+✓ identical`, 'm'));
    }
    expect(result.stdout).toMatch(/^result\s+VERIFIED/m);
    expect(result.stdout).toMatch(
      /all 5 receipts signed by the provider and proven under anchored checkpoints/
    );
    // Progress goes to stderr, so that --json output stays parseable.
    expect(result.stderr).toMatch(/kernel ready in/);

    const saved = JSON.parse(readFileSync(ran.file, 'utf8')).metadata.ain;
    expect(saved.receipts).toEqual(ran.evidence.receipts);
    expect(saved.verifications.map((v: { step: number; level: string }) => [v.step, v.level])).toEqual(
      FIVE_CELLS.map((_, i) => [i, 'reproduced'])
    );
    expect(junitCounts(junit)).toMatchObject({
      tests: '5',
      failures: '0',
      errors: '0',
      skipped: '0',
      cases: 5
    });

    // With the run's own bundle instead of the folder (no --data needed): from the agent as the run's client
    // (account 2), or from a file; another bundle is refused.
    const base = ['verify', ran.file, '--rpc', rpc, '--data-dir', verifierDataDir(world)];
    const fromAgent = await runAin([...base, '--bundle', 'agent', '--dev-account', '2']);
    expect(fromAgent.code).toBe(0);
    expect(fromAgent.stderr).toMatch(/using the run's bundle 0x[0-9a-f]{8}… \(2 files\)/);
    expect((await runAin([...base, '--bundle', ran.bundleFile])).code).toBe(0);
    const stranger = await runAin([...base, '--bundle', 'agent']);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toMatch(/has not published bundle .* pass --bundle FILE/);
    const other = await runNotebook(world, await provider('honest'), FIVE_CELLS.slice(0, 1), { files: DATA });
    const wrong = await runAin([...base, '--bundle', other.bundleFile]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/is 0x[0-9a-f]{64}, not the run's bundle/);
    console.log(
      `figures: 5-cell notebook: original run ${ran.totalMs} ms (cells ${ran.executeMs} ms); ` +
        `ain verify --reproduce local ${result.ms} ms`
    );
  });

  it('catches tamper-outputs on exactly the cells whose outputs hold digits (exit 1), locally and on another provider', async () => {
    const ran = await runNotebook(world, await provider('tamper-outputs'), FIVE_CELLS, { files: DATA });
    const junit = path.join(dir, 'tamper.xml');
    const result = await verify(ran.file, '--json', '--junit', junit);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.outcome).toBe('mismatch');
    const differs = report.steps.filter((s: { verdict: string }) => s.verdict === 'differs');
    expect(differs.map((s: { step: number }) => s.step)).toEqual([1, 3]);
    expect(report.steps.filter((s: { verdict: string }) => s.verdict === 'identical')).toHaveLength(3);
    expect(junitCounts(junit)).toMatchObject({ tests: '5', failures: '2', errors: '0' });

    const table = await verify(ran.file);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/^1\s+#2 cell-1\s+✗ differs/m);
    expect(table.stdout).toMatch(/^result\s+MISMATCH/m);

    // The same check on another (honest) provider, paid by the verifier (account 4).
    const honest = await provider('honest');
    const remote = await verify(ran.file, '--json', '--reproduce', honest.address, '--dev-account', '4');
    expect(remote.stderr).not.toMatch(/unexpected failure/);
    expect(remote.code).toBe(1);
    const remoteReport = JSON.parse(remote.stdout);
    expect(remoteReport.executor).toContain(honest.address);
    expect(
      remoteReport.steps
        .filter((s: { verdict: string }) => s.verdict === 'differs')
        .map((s: { step: number }) => s.step)
    ).toEqual([1, 3]);
  });

  it('catches skip-execution (exit 1)', async () => {
    const ran = await runNotebook(world, await provider('skip-execution'), FIVE_CELLS, { files: DATA });
    const result = await verify(ran.file, '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    // Every cell that prints something was skipped; cell 0 prints nothing either way.
    expect(report.steps.map((s: { verdict: string }) => s.verdict)).toEqual([
      'identical',
      'differs',
      'differs',
      'differs',
      'differs'
    ]);
  });

  it('accepts legitimate numeric noise as within-tolerance (exit 0)', async () => {
    const cells: ICell[] = [
      {
        source:
          'import random, time\nrng = random.Random(time.time_ns())\nbase = [random.Random(i).random() for i in range(1000)]'
      },
      // The same floats summed in another order each run: last-digit differences.
      { source: 'shuffled = base[:]\nrng.shuffle(shuffled)\nprint(sum(shuffled))' },
      // Time-seeded noise at 1e-12, within the default tolerance (rtol 1e-5, atol 1e-8).
      { source: 'print(0.5 + rng.random() * 1e-12)' },
      // Noise at 1e-4: beyond the default, within the cell's own tag.
      { source: 'print(1.0 + rng.random() * 1e-4)', tags: ['ain:rtol=1e-3'] },
      { source: "print('done')" }
    ];
    const ran = await runNotebook(world, await provider('honest'), cells);
    const result = await runAin([
      'verify',
      ran.file,
      '--rpc',
      rpc,
      '--json',
      '--data-dir',
      verifierDataDir(world)
    ]);
    expect(result.code).toBe(0);
    const verdicts = JSON.parse(result.stdout).steps.map((s: { verdict: string }) => s.verdict);
    expect(verdicts[0]).toBe('identical');
    expect(['identical', 'within-tolerance']).toContain(verdicts[1]);
    expect(verdicts.slice(2)).toEqual(['within-tolerance', 'within-tolerance', 'identical']);
  });

  it('checks sampled checkpoints once the client revealed its sampling secret', async () => {
    const cells = Array.from({ length: 6 }, (_, i) => ({ source: `print(${i} * 11)` }));
    const ran = await runNotebook(world, await provider('honest'), cells);
    const checkpoints = await world.chain.client.runs.checkpoints(ran.runId);
    expect(checkpoints.map(c => c.receiptCount)).toEqual([2, 4, 6]);

    const early = await runAin(['verify', ran.file, '--rpc', rpc, '--level', 'checkpoint', '--samples', '2']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/secret/i);

    await world.chain.client.runs.revealSamplingSecret(ran.runId, ran.secret);
    const result = await runAin([
      ...['verify', ran.file, '--rpc', rpc, '--level', 'checkpoint', '--samples', '2'],
      ...['--data-dir', verifierDataDir(world)]
    ]);
    expect(result.stderr).not.toMatch(/unexpected failure/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^checkpoints\s+2 of 3 checkpoints \(4 of 6 cells\); >= \d+% if 30% of cells were falsified/m
    );
    expect(result.stdout).toMatch(/^result\s+VERIFIED/m);
  });
});
