/**
 * RunRegistry runs against a real anvil: open, anchor, close, settle before and after the window, sampling
 * secret, attestations; every success path and every custom error of those functions.
 */
import { ZeroHash } from 'ethers';
import { ReceiptTree } from '../../src/core/merkle';
import { Verdict, signAttestation } from '../../src/chain/attestation';
import { computeRunId, nextCheckpointsAcc, samplingSecretCommitment } from '../../src/chain/run-registry';
import {
  IChainFixture,
  TOKEN,
  expectRevert,
  random32,
  startChainWithProvider,
  timeTravel
} from './chain-fixture';

describe('RunRegistry runs on anvil', () => {
  let f: IChainFixture;
  let nonce = 100n;
  const PRICE = TOKEN(36); // 0.01 token per second: payments are easy to check by hand
  const open = async (escrow = TOKEN(100)) => {
    const secret = random32();
    const r = await f.client.runs.openRun({
      provider: f.provider.address,
      bundleHash: '0x' + 'ab'.repeat(32),
      nonce: nonce++,
      samplingSecret: secret,
      escrow,
      pricePerHour: PRICE
    });
    return { ...r, secret };
  };

  beforeAll(async () => {
    f = await startChainWithProvider(PRICE);
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('opens a run: the id binds chain, contract, client, provider, nonce and bundle; the escrow moves', async () => {
    const before = await f.client.token.balanceOf(f.client.address);
    const { runId, secret } = await open(TOKEN(100));
    expect(runId).toBe(
      computeRunId(f.deployment, f.client.address, f.provider.address, nonce - 1n, '0x' + 'ab'.repeat(32))
    );
    expect(
      await f.client.runs.contract.computeRunId(
        f.client.address,
        f.provider.address,
        nonce - 1n,
        '0x' + 'ab'.repeat(32)
      )
    ).toBe(runId);
    expect(await f.client.token.balanceOf(f.client.address)).toBe(before - TOKEN(100));
    const run = await f.stranger.runs.getRun(runId);
    expect(run).toMatchObject({
      client: f.client.address,
      provider: f.provider.address,
      status: 'open',
      escrow: TOKEN(100),
      pricePerHour: PRICE,
      secretCommitment: samplingSecretCommitment(secret),
      checkpointsAcc: runId,
      receiptCount: 0
    });
    expect((await f.stranger.providers.getProvider(f.provider.address)).activeRuns).toBeGreaterThan(0);
  });

  it('refuses a reused nonce, an inactive provider, a changed price and a zero escrow', async () => {
    const p = {
      provider: f.provider.address,
      bundleHash: random32(),
      nonce: 1n,
      samplingSecret: random32(),
      escrow: TOKEN(1),
      pricePerHour: PRICE
    };
    await f.client.runs.openRun(p);
    await expectRevert(f.client.runs.openRun(p), 'RunAlreadyExists');
    const inactive = await expectRevert(
      f.client.runs.openRun({ ...p, nonce: 2n, provider: f.stranger.address }),
      'ProviderNotActive'
    );
    expect(inactive.args).toEqual([f.stranger.address]);
    const price = await expectRevert(
      f.client.runs.openRun({ ...p, nonce: 3n, pricePerHour: TOKEN(1) }),
      'PriceChanged'
    );
    expect(price.args).toEqual([TOKEN(1), PRICE]);
    await expectRevert(f.client.runs.openRun({ ...p, nonce: 4n, escrow: 0n }), 'ZeroEscrow');
  });

  it('anchors checkpoints append-only and keeps the history hash and events', async () => {
    const { runId } = await open();
    const roots = [random32(), random32()];
    await f.provider.runs.anchor(runId, { index: 0, root: roots[0], receiptCount: 3 });
    await f.provider.runs.anchor(runId, { index: 1, root: roots[1], receiptCount: 10 });
    const run = await f.stranger.runs.getRun(runId);
    expect(run).toMatchObject({ latestRoot: roots[1], receiptCount: 10, checkpointCount: 2 });
    expect(run.checkpointsAcc).toBe(nextCheckpointsAcc(nextCheckpointsAcc(runId, roots[0], 3), roots[1], 10));
    const cps = await f.stranger.runs.checkpoints(runId);
    expect(cps.map(c => [c.index, c.root, c.receiptCount])).toEqual([
      [0, roots[0], 3],
      [1, roots[1], 10]
    ]);
    expect(cps[1].txHash).toMatch(/^0x[0-9a-f]{64}$/);

    const idx = await expectRevert(
      f.provider.runs.anchor(runId, { index: 1, root: random32(), receiptCount: 11 }),
      'CheckpointIndexMismatch'
    );
    expect(idx.args).toEqual([2n, 1n]);
    const cnt = await expectRevert(
      f.provider.runs.anchor(runId, { index: 2, root: random32(), receiptCount: 10 }),
      'ReceiptCountNotIncreasing'
    );
    expect(cnt.args).toEqual([10n, 10n]);
    await expectRevert(
      f.provider.runs.anchor(runId, { index: 2, root: ZeroHash, receiptCount: 11 }),
      'EmptyRoot'
    );
    const who = await expectRevert(
      f.client.runs.anchor(runId, { index: 2, root: random32(), receiptCount: 11 }),
      'NotRunProvider'
    );
    expect(who.args).toEqual([runId, f.client.address]);
    await expectRevert(
      f.provider.runs.anchor(random32(), { index: 0, root: random32(), receiptCount: 1 }),
      'RunNotFound'
    );
  });

  it('anchors a real receipt tree whose root and proofs the contract accepts', async () => {
    const { runId } = await open();
    const digests = Array.from({ length: 7 }, () => random32());
    const tree = new ReceiptTree(digests);
    await f.provider.runs.anchor(runId, tree.checkpoint(0));
    const run = await f.stranger.runs.getRun(runId);
    expect(run.latestRoot).toBe(tree.root);
    for (const step of [0, 3, 6]) {
      expect(
        await f.stranger.runs.contract.verifyReceiptProof(
          run.latestRoot,
          step,
          digests[step],
          tree.proof(step)
        )
      ).toBe(true);
    }
    expect(
      await f.stranger.runs.contract.verifyReceiptProof(run.latestRoot, 2, digests[3], tree.proof(3))
    ).toBe(false);
  });

  it('closes (client or provider only), then refuses checkpoints and a second close', async () => {
    const { runId } = await open();
    await expectRevert(f.stranger.runs.closeRun(runId), 'NotRunParty');
    await expectRevert(f.stranger.runs.closeRun(random32()), 'RunNotFound');
    await f.provider.runs.closeRun(runId);
    expect((await f.stranger.runs.getRun(runId)).status).toBe('closed');
    const info = await expectRevert(
      f.provider.runs.anchor(runId, { index: 0, root: random32(), receiptCount: 1 }),
      'RunNotOpen'
    );
    expect(info.args).toEqual([runId, 2n]);
    await expectRevert(f.client.runs.closeRun(runId), 'RunNotOpen');
  });

  it('settles only after the challenge window, paying used time exactly and refunding the rest', async () => {
    const { runId } = await open(TOKEN(100));
    await expectRevert(f.stranger.runs.settle(runId), 'RunNotClosed');
    await timeTravel(f.client.session, 1000);
    await f.provider.runs.anchor(runId, { index: 0, root: random32(), receiptCount: 5 });
    await timeTravel(f.client.session, 500);
    await f.client.runs.closeRun(runId);
    const run = await f.stranger.runs.getRun(runId);
    const window = await f.stranger.runs.challengeWindow();
    await timeTravel(f.client.session, window - 100);
    const info = await expectRevert(f.stranger.runs.settle(runId), 'ChallengeWindowOpen');
    expect(info.args).toEqual([BigInt(run.closedAt + window)]);
    await timeTravel(f.client.session, 100);
    const [p0, c0] = await Promise.all([
      f.provider.token.balanceOf(f.provider.address),
      f.client.token.balanceOf(f.client.address)
    ]);
    await f.stranger.runs.settle(runId);
    const used = BigInt(run.lastAnchorAt - run.openedAt);
    expect(used).toBeGreaterThanOrEqual(1000n);
    const payment = (PRICE * used) / 3600n;
    expect(await f.provider.token.balanceOf(f.provider.address)).toBe(p0 + payment);
    expect(await f.client.token.balanceOf(f.client.address)).toBe(c0 + TOKEN(100) - payment);
    expect((await f.stranger.runs.getRun(runId)).status).toBe('settled');
    await expectRevert(f.stranger.runs.settle(runId), 'RunNotClosed');
  });

  it('caps the payment at the escrow', async () => {
    const { runId } = await open(TOKEN(1));
    await timeTravel(f.client.session, 3600);
    await f.provider.runs.anchor(runId, { index: 0, root: random32(), receiptCount: 1 });
    await f.provider.runs.closeRun(runId);
    await timeTravel(f.client.session, await f.stranger.runs.challengeWindow());
    const [p0, c0] = await Promise.all([
      f.provider.token.balanceOf(f.provider.address),
      f.client.token.balanceOf(f.client.address)
    ]);
    await f.stranger.runs.settle(runId);
    expect(await f.provider.token.balanceOf(f.provider.address)).toBe(p0 + TOKEN(1));
    expect(await f.client.token.balanceOf(f.client.address)).toBe(c0);
  });

  it('reveals the sampling secret only when it matches the commitment', async () => {
    const { runId, secret } = await open();
    await expectRevert(f.client.runs.revealSamplingSecret(runId, random32()), 'SecretMismatch');
    const tx = await f.client.runs.revealSamplingSecret(runId, secret);
    const log = tx.logs
      .map(l => f.client.runs.contract.interface.parseLog(l))
      .find(l => l?.name === 'SamplingSecretRevealed');
    expect(log?.args.secret).toBe(secret);
  });

  it('records signed attestations from verifiers, once each, never from the provider', async () => {
    const { runId } = await open();
    const domain = f.client.runs.domain;
    const a = { runId, verdict: Verdict.Reproduced, receiptCount: 3, resultRoot: random32(), score: -5n };
    const signed = await signAttestation(a, domain, f.verifier.session.requireSigner());
    // Anyone may relay it: the stranger submits, the verifier is recovered from the signature.
    const tx = await f.stranger.runs.attest(signed);
    const log = tx.logs
      .map(l => f.stranger.runs.contract.interface.parseLog(l))
      .find(l => l?.name === 'Attested');
    expect(log?.args.verifier).toBe(f.verifier.address);
    expect(log?.args.score).toBe(-5n);
    expect(await f.stranger.runs.contract.hasAttested(runId, f.verifier.address)).toBe(true);
    const again = await expectRevert(f.stranger.runs.attest(signed), 'AlreadyAttested');
    expect(again.args).toEqual([f.verifier.address]);
    await expectRevert(
      f.stranger.runs.attest(await signAttestation(a, domain, f.provider.session.requireSigner())),
      'ProviderCannotAttest'
    );
    const bad = await expectRevert(
      f.stranger.runs.attest(
        await signAttestation({ ...a, verdict: 4 as Verdict }, domain, f.challenger.session.requireSigner())
      ),
      'InvalidVerdict'
    );
    expect(bad.args).toEqual([4n]);
    await expectRevert(
      f.stranger.runs.attest(
        await signAttestation({ ...a, runId: random32() }, domain, f.challenger.session.requireSigner())
      ),
      'RunNotFound'
    );
    await f.stranger.runs.attest(
      await signAttestation({ ...a, verdict: Verdict.Mismatch }, domain, f.challenger.session.requireSigner())
    );
  });
});
