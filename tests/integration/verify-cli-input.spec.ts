/**
 * `ain verify` on what CI must not let through silently, against a real anvil and a real honest provider: bad
 * input (not JSON, not a notebook, no metadata.ain, no salt, an unreachable or wrong chain) exits 2 with a message
 * that says what to do; altered evidence fails (exit 1) before anything is re-executed, with a JUnit failure;
 * `--attest` records the result on-chain (with a development key or an encrypted keystore); the solution level
 * recomputes an objective from the artifacts the provider committed to, downloaded from its agent by the run's
 * client, read from a local folder, or read by anyone once the client published the run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Contract, Wallet } from 'ethers';
import { RUN_REGISTRY_ABI } from '../../src/chain/abi';
import { buildCli, runAin, stopAllProcesses } from './cli-process-fixture';
import {
  IRanNotebook,
  ITestProvider,
  IVerifyWorld,
  runNotebook,
  startVerifyWorld,
  verifierDataDir
} from './verify-fixture';

jest.setTimeout(600_000);

const CELLS = [{ source: 'x = 6 * 7\nprint(x)' }, { source: "print('second')" }, { source: 'x + 1' }];

describe('ain verify: bad input, altered evidence, attestation, solution level', () => {
  let dir: string;
  let world: IVerifyWorld;
  let rpc: string;
  let provider: ITestProvider;
  let ran: IRanNotebook;
  /** A copy of the run's notebook with `edit` applied to its JSON. */
  const variant = (name: string, edit: (nb: any) => void): string => {
    const nb = JSON.parse(readFileSync(ran.file, 'utf8'));
    edit(nb);
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(nb, null, 1));
    return file;
  };

  beforeAll(async () => {
    buildCli();
    dir = mkdtempSync(path.join(tmpdir(), 'ain-verify-input-'));
    world = await startVerifyWorld(dir);
    rpc = world.chain.anvil.rpcUrl;
    provider = await world.startProvider(6);
    ran = await runNotebook(world, provider, CELLS);
  });

  afterAll(async () => {
    await stopAllProcesses();
    await world?.chain.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 2 on bad input, saying what was wrong and what to do', async () => {
    const notJson = path.join(dir, 'notes.ipynb');
    writeFileSync(notJson, 'these are notes, not a notebook');
    const notNotebook = path.join(dir, 'data.json');
    writeFileSync(notNotebook, JSON.stringify({ rows: [1, 2, 3] }));
    const cases: [string[], RegExp][] = [
      [[notJson], /is not a notebook: it is not JSON/],
      [[notNotebook], /is not a notebook JupyterLab would open: Only nbformat 4/],
      [[path.join(dir, 'missing.ipynb')], /Cannot read .*missing\.ipynb: ENOENT/],
      [[variant('bare.ipynb', nb => delete nb.metadata.ain)], /has no metadata\.ain.*Run it on a provider/],
      [[variant('no-salt.ipynb', nb => delete nb.metadata.ain.runs[0].salt)], /lacks its run's salt/],
      [[ran.file, '--level', 'everything'], /--level must be one of execution, checkpoint, solution/],
      [[ran.file, '--reproduce', 'somewhere'], /--reproduce must be "local" or a provider's address/]
    ];
    for (const [args, message] of cases) {
      const result = await runAin(['verify', ...args, '--rpc', rpc]);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/unexpected failure/);
    }
    const unreachable = await runAin(['verify', ran.file, '--rpc', 'http://127.0.0.1:9']);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(/Cannot reach the chain at http:\/\/127\.0\.0\.1:9/);
    const otherChain = variant('other-chain.ipynb', nb => (nb.metadata.ain.runs[0].chainId = 5));
    const wrong = await runAin(['verify', otherChain, '--rpc', rpc]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/run is on chain 5, but .* serves chain 31337/);
  });

  it('fails altered evidence (exit 1) without re-executing anything, with JUnit failures', async () => {
    const altered = variant(
      'altered.ipynb',
      nb => (nb.metadata.ain.receipts[1].signed.receipt.endedAt += 1000)
    );
    const junit = path.join(dir, 'altered.xml');
    const result = await runAin(['verify', altered, '--rpc', rpc, '--junit', junit]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^1\s+✗ invalid\s+/m);
    expect(result.stdout).toMatch(/nothing was re-executed/);
    expect(result.stderr).not.toMatch(/kernel ready/);
    const counts = execFileSync(
      'python3',
      [
        '-c',
        'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); print(r.get("tests"), r.get("failures"))',
        junit
      ],
      { encoding: 'utf8' }
    );
    // The altered receipt breaks the receipt chain, which every receipt of the run then reports.
    expect(counts.trim()).toBe('3 3');
  });

  it('attests the result on-chain with --attest and keeps the transaction in the records', async () => {
    const file = variant('attest.ipynb', () => undefined);
    const result = await runAin([
      ...['verify', file, '--rpc', rpc, '--data-dir', verifierDataDir(world)],
      ...['--attest', '--write', '--dev-account', '4']
    ]);
    expect(result.code).toBe(0);
    const tx = /attested as (0x[0-9a-fA-F]{40}): transaction (0x[0-9a-f]{64})/.exec(result.stderr);
    expect(tx).not.toBeNull();
    expect(tx![1]).toBe(world.chain.verifier.address);
    const registry = new Contract(
      world.chain.deployment.contracts.runRegistry,
      RUN_REGISTRY_ABI,
      world.chain.verifier.session.provider
    );
    expect(await registry.hasAttested(ran.runId, world.chain.verifier.address)).toBe(true);
    const records = JSON.parse(readFileSync(file, 'utf8')).metadata.ain.verifications;
    expect(records).toHaveLength(CELLS.length);
    expect(
      records.every((r: { txHash: string; verifier: string }) => r.txHash === tx![2] && r.verifier === tx![1])
    ).toBe(true);

    const again = await runAin([
      'verify',
      file,
      '--rpc',
      rpc,
      '--data-dir',
      verifierDataDir(world),
      '--attest',
      '--dev-account',
      '4'
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not attested: Verifier .* has already attested run/);
    // The verification itself still shows: only the attestation failed.
    expect(again.stdout).toMatch(/^result\s+VERIFIED/m);
  });

  it('recomputes an objective from committed artifacts (solution level), from the agent or a local folder', async () => {
    const cells = [
      {
        source:
          "import json, os\nos.makedirs('outputs', exist_ok=True)\n" +
          "json.dump({'weights': [0.5, 0.25]}, open('outputs/model.json', 'w'))\nprint('trained')"
      },
      {
        source:
          "import json\nm = json.load(open('outputs/model.json'))\nscore = 1 - abs(sum(m['weights']) - 0.75)\nscore",
        tags: ['ain:objective>=0.9']
      }
    ];
    const trained = await runNotebook(world, provider, cells);
    expect(trained.evidence.receipts[0].artifacts).toEqual([
      expect.objectContaining({ path: 'outputs/model.json' })
    ]);
    // As the run's client (account 2): the artifact comes from the agent.
    const asClient = await runAin([
      ...['verify', trained.file, '--rpc', rpc, '--level', 'solution', '--dev-account', '2'],
      ...['--data-dir', verifierDataDir(world)]
    ]);
    expect(asClient.stderr).not.toMatch(/unexpected failure/);
    expect(asClient.code).toBe(0);
    expect(asClient.stdout).toMatch(/^1\s+#2 cell-1\s+✓ objective-pass/m);
    // As a third party: from a folder of artifacts named by path.
    const folder = path.join(dir, 'artifacts');
    mkdirSync(path.join(folder, 'outputs'), { recursive: true });
    writeFileSync(path.join(folder, 'outputs', 'model.json'), '{"weights": [0.5, 0.25]}');
    const thirdParty = await runAin([
      ...['verify', trained.file, '--rpc', rpc, '--level', 'solution', '--artifacts', folder],
      ...['--data-dir', verifierDataDir(world)]
    ]);
    expect(thirdParty.code).toBe(0);
    // Another model under that name is refused: its bytes do not hash to what the receipt committed to.
    writeFileSync(path.join(folder, 'outputs', 'model.json'), '{"weights": [0.5, 0.3]}');
    const other = await runAin([
      ...['verify', trained.file, '--rpc', rpc, '--level', 'solution', '--artifacts', folder],
      ...['--data-dir', verifierDataDir(world), '--json']
    ]);
    expect(other.code).toBe(1);
    expect(JSON.parse(other.stdout).steps[0]).toMatchObject({
      verdict: 'objective-fail',
      detail: expect.stringMatching(/are not the committed ones/)
    });
  });

  it('attests with an encrypted keystore; a third party verifies a published run with no key and no folder', async () => {
    const keystore = path.join(dir, 'verifier.json');
    const passwordFile = path.join(dir, 'verifier.password');
    const password = 'correct horse battery staple';
    writeFileSync(keystore, await new Wallet(world.chain.stranger.key).encrypt(password));
    writeFileSync(passwordFile, `${password}\n`);
    const file = variant('keystore.ipynb', () => undefined);
    const base = ['verify', file, '--rpc', rpc, '--data-dir', verifierDataDir(world), '--attest'];
    const wrong = await runAin([...base, '--key-file', keystore], { env: { AIN_PASSWORD: 'not it' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`Cannot decrypt the keystore ${keystore}`);
    const attested = await runAin([...base, '--key-file', keystore, '--password-file', passwordFile]);
    expect(attested.code).toBe(0);
    expect(attested.stderr).toContain(`attested as ${world.chain.stranger.address}`);
    expect(attested.stdout + attested.stderr).not.toContain(password);

    // The run's client publishes the run; then anyone recomputes its objective from the agent's public copy.
    const cells = [
      {
        source: "import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/w.txt', 'w').write('0.95')"
      },
      { source: "float(open('outputs/w.txt').read())", tags: ['ain:objective>=0.9'] }
    ];
    const trained = await runNotebook(world, provider, cells);
    const solution = ['verify', trained.file, '--rpc', rpc, '--level', 'solution', '--json'];
    const before = await runAin([...solution, '--data-dir', verifierDataDir(world)]);
    expect(before.code).not.toBe(0);
    expect(before.stderr).toContain(`Run ${trained.runId} is not published at ${provider.url}`);
    const publish = await fetch(`${provider.url}/runs/${trained.runId}/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${trained.token}` }
    });
    expect(publish.status).toBe(200);
    const after = await runAin([...solution, '--data-dir', verifierDataDir(world)]);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).steps[0]).toMatchObject({ verdict: 'objective-pass' });
  });
});
