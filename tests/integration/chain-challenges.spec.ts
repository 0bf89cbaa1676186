/**
 * Challenges against a real anvil: equivocation and inclusion contradiction slash and pay out exactly; receipts
 * are bound to their run, chain and contract; a reentrant token cannot drain settle.
 */
import { Contract, ContractFactory, Signature, SigningKey, ZeroHash, getCreateAddress } from 'ethers';
import { ReceiptTree } from '../../src/core/merkle';
import { ISignedReceipt, signReceipt } from '../../src/core/receipt';
import { loadArtifact } from '../../src/chain/deploy-node';
import { chainError } from '../../src/chain/errors';
import {
  IChainFixture,
  TOKEN,
  expectRevert,
  random32,
  signedReceipts,
  startChainWithProvider,
  timeTravel
} from './chain-fixture';

describe('RunRegistry challenges on anvil', () => {
  let f: IChainFixture;
  let nonce = 1n;
  const PRICE = TOKEN(1);
  const open = async () =>
    (
      await f.client.runs.openRun({
        provider: f.provider.address,
        bundleHash: random32(),
        nonce: nonce++,
        samplingSecret: random32(),
        escrow: TOKEN(40),
        pricePerHour: PRICE
      })
    ).runId;
  const balances = () =>
    Promise.all([f.client, f.challenger, f.provider].map(a => a.token.balanceOf(a.address)));

  beforeAll(async () => {
    f = await startChainWithProvider(PRICE);
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('slashes an equivocation: 100 staked tokens taken, half to the challenger, escrow and half to the client', async () => {
    const runId = await open();
    const domain = f.client.runs.domain;
    const { signed } = signedReceipts(runId, 3, domain, f.provider.key);
    const forged = signReceipt(
      { ...signed[1].receipt, outputHash: random32() },
      domain,
      new SigningKey(f.provider.key)
    );
    const [c0, ch0] = await balances();
    const stake0 = (await f.client.providers.getProvider(f.provider.address)).stake;
    const tx = await f.challenger.runs.challengeEquivocation(signed[1], forged);
    const [c1, ch1] = await balances();
    expect(ch1 - ch0).toBe(TOKEN(50));
    expect(c1 - c0).toBe(TOKEN(40) + TOKEN(50));
    expect((await f.client.providers.getProvider(f.provider.address)).stake).toBe(stake0 - TOKEN(100));
    expect((await f.client.runs.getRun(runId)).status).toBe('slashed');
    const ev = tx.logs
      .map(l => f.client.runs.contract.interface.parseLog(l))
      .find(l => l?.name === 'RunSlashed');
    expect([ev?.args.fault, ev?.args.step, ev?.args.slashed]).toEqual([0n, 1n, TOKEN(100)]);
    // A slashed run is final: no second challenge, no settlement.
    const fin = await expectRevert(
      f.challenger.runs.challengeEquivocation(signed[1], forged),
      'RunFinalized'
    );
    expect(fin.args).toEqual([runId, 4n]);
    await expectRevert(f.client.runs.settle(runId), 'RunNotClosed');
  });

  it('refuses equivocation claims that prove nothing', async () => {
    const runId = await open();
    const domain = f.client.runs.domain;
    const { signed } = signedReceipts(runId, 3, domain, f.provider.key);
    const other = signedReceipts(await open(), 1, domain, f.provider.key).signed[0];
    await expectRevert(f.challenger.runs.challengeEquivocation(signed[0], other), 'ReceiptRunMismatch');
    const steps = await expectRevert(
      f.challenger.runs.challengeEquivocation(signed[0], signed[1]),
      'StepMismatch'
    );
    expect(steps.args).toEqual([0n, 1n]);
    await expectRevert(f.challenger.runs.challengeEquivocation(signed[2], signed[2]), 'ReceiptsIdentical');
    const byStranger = signReceipt(
      { ...signed[2].receipt, codeHash: random32() },
      domain,
      new SigningKey(f.stranger.key)
    );
    const who = await expectRevert(
      f.challenger.runs.challengeEquivocation(signed[2], byStranger),
      'NotSignedByProvider'
    );
    expect(who.args).toEqual([f.stranger.address]);
    const ghost = signedReceipts(random32(), 1, domain, f.provider.key).signed[0];
    await expectRevert(f.challenger.runs.challengeEquivocation(ghost, ghost), 'RunNotFound');
  });

  it('rejects a receipt signed for another chain or another contract, though it has the same fields', async () => {
    const runId = await open();
    const domain = f.client.runs.domain;
    const { signed } = signedReceipts(runId, 1, domain, f.provider.key);
    const forged = { ...signed[0].receipt, outputHash: random32() };
    const key = new SigningKey(f.provider.key);
    for (const wrong of [
      { ...domain, chainId: 1 },
      { ...domain, verifyingContract: f.deployment.contracts.providerRegistry }
    ]) {
      const elsewhere = signReceipt(forged, wrong, key);
      await expectRevert(
        f.challenger.runs.challengeEquivocation(signed[0], elsewhere),
        'NotSignedByProvider'
      );
    }
    expect((await f.client.runs.getRun(runId)).status).toBe('open');
  });

  it('refuses malformed and malleable signatures with the ECDSA errors', async () => {
    const runId = await open();
    const { signed } = signedReceipts(runId, 1, f.client.runs.domain, f.provider.key);
    const c = f.client.runs.contract;
    expect(await c.recoverReceiptSigner(signed[0].receipt, signed[0].signature)).toBe(f.provider.address);
    const call = (sig: string) =>
      f.client.session.call('Recovering', () => c.recoverReceiptSigner(signed[0].receipt, sig));
    await expectRevert(call(signed[0].signature.slice(0, 130)), 'ECDSAInvalidSignatureLength');
    const sig = Signature.from(signed[0].signature);
    const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
    const highS =
      '0x' +
      sig.r.slice(2) +
      (n - BigInt(sig.s)).toString(16).padStart(64, '0') +
      (sig.v === 27 ? '1c' : '1b');
    await expectRevert(call(highS), 'ECDSAInvalidSignatureS');
    await expectRevert(call('0x' + '00'.repeat(64) + '1b'), 'ECDSAInvalidSignature');
  });

  it('slashes an inclusion contradiction against an earlier checkpoint, paying out exactly', async () => {
    const runId = await open();
    const domain = f.client.runs.domain;
    const { signed, digests } = signedReceipts(runId, 6, domain, f.provider.key);
    // Checkpoint 0 is honest; checkpoint 1 rewrites step 2 (history rewriting must still be provable).
    const tampered = [...digests];
    tampered[2] = random32();
    const t0 = new ReceiptTree(digests.slice(0, 3));
    const t1 = new ReceiptTree(tampered);
    await f.provider.runs.anchor(runId, t0.checkpoint(0));
    await f.provider.runs.anchor(runId, t1.checkpoint(1));
    // Checkpoint 0 holds the signed receipt: nothing to challenge there.
    const honest = await f.challenger.runs.inclusionEvidence(runId, 0, digests[2], t0.proof(2));
    expect(honest.history).toHaveLength(2);
    await expectRevert(f.challenger.runs.challengeInclusion(signed[2], honest), 'NoContradiction');
    const evidence = await f.challenger.runs.inclusionEvidence(runId, 1, tampered[2], t1.proof(2));
    await expectRevert(
      f.challenger.runs.challengeInclusion(signed[2], { ...evidence, accBefore: random32() }),
      'CheckpointHistoryMismatch'
    );
    await expectRevert(
      f.challenger.runs.challengeInclusion(signed[2], { ...evidence, history: [] }),
      'CheckpointHistoryMismatch'
    );
    await expectRevert(
      f.challenger.runs.challengeInclusion(signed[2], { ...evidence, proof: t1.proof(3) }),
      'InvalidMerkleProof'
    );
    const late = signedReceipts(runId, 8, domain, f.provider.key).signed[7];
    const cov = await expectRevert(f.challenger.runs.challengeInclusion(late, evidence), 'StepNotCovered');
    expect(cov.args).toEqual([7n, 6n]);
    const byStranger: ISignedReceipt = signReceipt(signed[2].receipt, domain, new SigningKey(f.stranger.key));
    await expectRevert(f.challenger.runs.challengeInclusion(byStranger, evidence), 'NotSignedByProvider');

    const [c0, ch0] = await balances();
    await f.challenger.runs.challengeInclusion(signed[2], evidence);
    const [c1, ch1] = await balances();
    expect(ch1 - ch0).toBe(TOKEN(50));
    expect(c1 - c0).toBe(TOKEN(40) + TOKEN(50));
    expect((await f.client.runs.getRun(runId)).status).toBe('slashed');
  });

  it('refuses challenges after settlement', async () => {
    const runId = await open();
    const { signed } = signedReceipts(runId, 1, f.client.runs.domain, f.provider.key);
    const forged = signReceipt(
      { ...signed[0].receipt, codeHash: random32() },
      f.client.runs.domain,
      new SigningKey(f.provider.key)
    );
    await f.client.runs.closeRun(runId);
    await timeTravel(f.client.session, await f.client.runs.challengeWindow());
    await f.client.runs.settle(runId);
    await expectRevert(f.challenger.runs.challengeEquivocation(signed[0], forged), 'RunFinalized');
  });

  it('a reentrant token cannot make settle pay twice', async () => {
    const signer = f.deployer.session.requireSigner();
    const deploy = async (name: string, args: unknown[]) => {
      const a = loadArtifact(name);
      const c = await new ContractFactory(a.abi as never, a.bytecode, signer).deploy(...args);
      await c.waitForDeployment();
      return new Contract(await c.getAddress(), a.abi as never, signer);
    };
    const send = async (c: Contract, fn: string, args: unknown[], from = signer) => {
      try {
        await (await (c.connect(from) as Contract).getFunction(fn)(...args)).wait();
      } catch (e) {
        throw chainError(e, fn);
      }
    };
    const token = await deploy('ReentrantToken', []);
    const nonce0 = await f.deployer.session.provider.getTransactionCount(f.deployer.address);
    const registry = await deploy('ProviderRegistry', [
      await token.getAddress(),
      TOKEN(1),
      3600,
      getCreateAddress({ from: f.deployer.address, nonce: nonce0 + 1 })
    ]);
    const runs = await deploy('RunRegistry', [await registry.getAddress(), 3600, TOKEN(1), 5000]);
    const provider = f.provider.session.requireSigner();
    const client = f.client.session.requireSigner();
    await send(token, 'mint', [f.provider.address, TOKEN(10)]);
    await send(token, 'mint', [f.client.address, TOKEN(100)]);
    await send(token, 'approve', [await registry.getAddress(), TOKEN(10)], provider);
    await send(registry, 'register', ['http://p', TOKEN(3600), ZeroHash, '', TOKEN(10)], provider);
    await send(token, 'approve', [await runs.getAddress(), TOKEN(100)], client);
    // Two runs of 50 each: a second payout of run A would come out of run B's escrow.
    const ids: string[] = [];
    for (const n of [1n, 2n]) {
      await send(
        runs,
        'openRun',
        [f.provider.address, ZeroHash, n, ZeroHash, TOKEN(50), TOKEN(3600)],
        client
      );
      ids.push(await runs.computeRunId(f.client.address, f.provider.address, n, ZeroHash));
    }
    await timeTravel(f.client.session, 5);
    await send(runs, 'anchor', [ids[0], 0, random32(), 1], provider);
    await send(runs, 'closeRun', [ids[0]], client);
    await timeTravel(f.client.session, 3600);
    await send(token, 'arm', [
      await runs.getAddress(),
      runs.interface.encodeFunctionData('settle', [ids[0]])
    ]);
    const before = await token.balanceOf(await runs.getAddress());
    await send(runs, 'settle', [ids[0]]);
    expect(await token.attempted()).toBe(true);
    expect(await token.reentrySucceeded()).toBe(false);
    expect(runs.interface.parseError(await token.reentryRevertData())?.name).toBe(
      'ReentrancyGuardReentrantCall'
    );
    // Exactly run A's escrow left the contract; run B's is intact.
    expect(before - (await token.balanceOf(await runs.getAddress()))).toBe(TOKEN(50));
    expect(await token.balanceOf(await runs.getAddress())).toBe(TOKEN(50));
  });
});
