/**
 * `ain challenge` against a real cheating provider: an agent started with `--fault equivocate` signs a second,
 * conflicting receipt for every step; the client's notebook records the pairs (metadata.ain equivocations), and
 * `node bin/ain.js challenge` run by a third party slashes the provider on-chain: the run's status becomes
 * 'slashed', the provider's stake drops by the slash amount, the challenger and the client are paid. A second
 * challenge is refused with a clear message; `ain verify` fails such a run (exit 1) and `--challenge` slashes it;
 * a receipt the anchored root contradicts is slashed with the agent's proof (inclusion challenge, by the run's
 * client); an honest notebook has nothing to challenge.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { formatUnits } from 'ethers';
import { DEV_PARAMETERS } from '../../src/chain/deploy-node';
import { receiptDigest } from '../../src/core/receipt';
import { buildCli, runAin, stopAllProcesses } from './cli-process-fixture';
import { timeTravel } from './chain-fixture';
import { IVerifyWorld, runNotebook, startVerifyWorld } from './verify-fixture';

jest.setTimeout(600_000);

const CELLS = [{ source: 'x = 6 * 7\nprint(x)' }, { source: "print('second cell')" }];

describe('ain challenge (real equivocating provider, real chain)', () => {
  let dir: string;
  let world: IVerifyWorld;

  beforeAll(async () => {
    buildCli();
    dir = mkdtempSync(path.join(tmpdir(), 'ain-verify-challenge-'));
    world = await startVerifyWorld(dir);
  });

  afterAll(async () => {
    await stopAllProcesses();
    await world?.chain.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('slashes an equivocating provider: status slashed, stake down by the slash amount, payout printed', async () => {
    const provider = await world.startProvider(6, 'equivocate');
    const ran = await runNotebook(world, provider, CELLS);
    expect(ran.evidence.equivocations).toHaveLength(CELLS.length);
    const rpc = world.chain.anvil.rpcUrl;
    const stakeBefore = (await world.chain.client.providers.getProvider(provider.address)).stake;
    const challengerBalance = await world.chain.challenger.token.balanceOf(world.chain.challenger.address);

    // The challenger is account 3: a third party holding only the shared notebook.
    const result = await runAin(['challenge', ran.file, '--rpc', rpc, '--dev-account', '3', '--write']);
    expect(result.stderr).not.toMatch(/unexpected failure/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/challenge\s+equivocation at step 0/);
    const tx = /slashed\s+transaction (0x[0-9a-f]{64})/.exec(result.stdout)?.[1];
    expect(tx).toBeDefined();
    const slash = formatUnits(DEV_PARAMETERS.slashAmount, 18);
    expect(result.stdout).toContain(`lost ${slash} tokens of stake`);

    const onChain = await world.chain.client.runs.getRun(ran.runId);
    expect(onChain.status).toBe('slashed');
    const stakeAfter = (await world.chain.client.providers.getProvider(provider.address)).stake;
    expect(stakeBefore - stakeAfter).toBe(DEV_PARAMETERS.slashAmount);
    const reward = (DEV_PARAMETERS.slashAmount * BigInt(DEV_PARAMETERS.challengerRewardBps)) / 10_000n;
    expect(await world.chain.challenger.token.balanceOf(world.chain.challenger.address)).toBe(
      challengerBalance + reward
    );
    // --write noted the transaction on the equivocation records.
    const saved = JSON.parse(readFileSync(ran.file, 'utf8')).metadata.ain;
    expect(saved.equivocations[0].challengeTx).toBe(tx);
    expect(saved.receipts).toHaveLength(CELLS.length);

    const again = await runAin(['challenge', ran.file, '--rpc', rpc, '--dev-account', '3']);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/already slashed \(transaction 0x[0-9a-f]{64}/);
  });

  it('ain verify fails an equivocating run before re-executing it, and --challenge slashes it', async () => {
    const provider = await world.startProvider(8, 'equivocate');
    const ran = await runNotebook(world, provider, CELLS);
    const rpc = world.chain.anvil.rpcUrl;
    const result = await runAin(['verify', ran.file, '--rpc', rpc, '--challenge', '--dev-account', '3']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^0\s+✗ equivocation\s+The provider signed two different receipts for step 0/m
    );
    expect(result.stdout).toMatch(/^slashed\s+transaction 0x[0-9a-f]{64}/m);
    expect(result.stderr).not.toMatch(/kernel ready/);
    expect((await world.chain.client.runs.getRun(ran.runId)).status).toBe('slashed');
  });

  it('slashes a provider whose anchored root contradicts the receipt the client kept (inclusion)', async () => {
    // The equivocating agent anchors its stored receipts; a client that kept the other receipt of the last step
    // holds a signed receipt the anchored root contradicts.
    const provider = await world.startProvider(9, 'equivocate');
    const ran = await runNotebook(world, provider, CELLS);
    const nb = JSON.parse(readFileSync(ran.file, 'utf8'));
    const other = nb.metadata.ain.equivocations[1].b;
    nb.metadata.ain.receipts[1] = {
      ...nb.metadata.ain.receipts[1],
      signed: other,
      digest: receiptDigest(other.receipt, world.chain.client.runs.domain)
    };
    delete nb.metadata.ain.equivocations;
    writeFileSync(ran.file, JSON.stringify(nb, null, 1));
    const rpc = world.chain.anvil.rpcUrl;

    const verified = await runAin(['verify', ran.file, '--rpc', rpc]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/^1\s+✗ contradicted\s+The anchored root of checkpoint 0/m);

    // Only the run's client (account 2) gets the anchored leaf and its proof from the agent.
    const result = await runAin(['challenge', ran.file, '--rpc', rpc, '--dev-account', '2']);
    expect(result.stderr).not.toMatch(/unexpected failure/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^challenge\s+inclusion at step 1/m);
    expect(result.stdout).toMatch(/^slashed\s+transaction 0x[0-9a-f]{64}/m);
    expect((await world.chain.client.runs.getRun(ran.runId)).status).toBe('slashed');
  });

  it('finds nothing to challenge in an honest notebook, and says when the challenge window is over', async () => {
    const provider = await world.startProvider(7);
    const ran = await runNotebook(world, provider, CELLS);
    const result = await runAin([
      'challenge',
      ran.file,
      '--rpc',
      world.chain.anvil.rpcUrl,
      '--dev-account',
      '3'
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/nothing to challenge/);
    expect((await world.chain.client.runs.getRun(ran.runId)).status).toBe('open');

    // Once settled after its challenge window, a run can no longer be challenged, and the command says so.
    await world.chain.client.runs.closeRun(ran.runId);
    await timeTravel(world.chain.client.session, DEV_PARAMETERS.challengeWindow + 1);
    await world.chain.client.runs.settle(ran.runId);
    const late = await runAin([
      'challenge',
      ran.file,
      '--rpc',
      world.chain.anvil.rpcUrl,
      '--dev-account',
      '3'
    ]);
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(/was settled: its challenge window is over/);
  });
});
