/**
 * ProviderRegistry and TestAIN against a real anvil: every function's success path and every custom error.
 */
import { ContractFactory, ZeroHash, getCreateAddress } from 'ethers';
import { chainError } from '../../src/chain/errors';
import { loadArtifact } from '../../src/chain/deploy-node';
import { IChainFixture, TOKEN, expectRevert, startChainFixture, timeTravel } from './chain-fixture';

const OFFER = {
  endpoint: 'http://127.0.0.1:9000',
  pricePerHour: TOKEN(2),
  capabilitiesHash: ZeroHash,
  capabilitiesURI: 'ipfs://caps'
};

describe('ProviderRegistry and TestAIN on anvil', () => {
  let f: IChainFixture;
  beforeAll(async () => {
    f = await startChainFixture();
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('faucet mints and refuses more than its limit', async () => {
    const before = await f.stranger.token.balanceOf(f.stranger.address);
    await f.stranger.token.faucet(f.stranger.address, TOKEN(5));
    expect(await f.stranger.token.balanceOf(f.stranger.address)).toBe(before + TOKEN(5));
    const info = await expectRevert(
      f.stranger.token.faucet(f.stranger.address, TOKEN(1_000_001)),
      'FaucetLimitExceeded'
    );
    expect(info.args).toEqual([TOKEN(1_000_001), TOKEN(1_000_000)]);
  });

  it('registers a provider, pulling its stake, and lists it', async () => {
    const p = f.provider;
    const before = await p.token.balanceOf(p.address);
    await p.providers.register({ ...OFFER, capabilitiesHash: '0x' + '11'.repeat(32) }, TOKEN(150));
    expect(await p.token.balanceOf(p.address)).toBe(before - TOKEN(150));
    const rec = await p.providers.getProvider(p.address);
    expect(rec).toMatchObject({
      endpoint: OFFER.endpoint,
      pricePerHour: TOKEN(2),
      stake: TOKEN(150),
      registered: true,
      capabilitiesURI: 'ipfs://caps',
      activeRuns: 0
    });
    expect(await p.providers.isActive(p.address)).toBe(true);
    const list = await f.stranger.providers.listProviders();
    expect(list.map(r => r.address)).toEqual([p.address]);
    expect((await f.stranger.providers.registrations())[0]).toMatchObject({ provider: p.address });
  });

  it('refuses a second registration, an empty endpoint and a stake below the minimum', async () => {
    await expectRevert(f.provider.providers.register(OFFER, TOKEN(100)), 'AlreadyRegistered');
    await expectRevert(
      f.verifier.providers.register({ ...OFFER, endpoint: '' }, TOKEN(100)),
      'EmptyEndpoint'
    );
    const info = await expectRevert(f.verifier.providers.register(OFFER, TOKEN(99)), 'StakeBelowMinimum');
    expect(info.args).toEqual([TOKEN(99), TOKEN(100)]);
  });

  it('updates an offer, and refuses updates from strangers or with an empty endpoint', async () => {
    await f.provider.providers.update({ ...OFFER, endpoint: 'https://p.example', pricePerHour: TOKEN(3) });
    expect(await f.provider.providers.getProvider(f.provider.address)).toMatchObject({
      endpoint: 'https://p.example',
      pricePerHour: TOKEN(3)
    });
    await expectRevert(f.stranger.providers.update(OFFER), 'NotRegistered');
    await expectRevert(f.provider.providers.update({ ...OFFER, endpoint: '' }), 'EmptyEndpoint');
  });

  it('adds stake, unbonds and withdraws only after the delay', async () => {
    const p = f.provider;
    await p.providers.addStake(TOKEN(50));
    expect((await p.providers.getProvider(p.address)).stake).toBe(TOKEN(200));
    await expectRevert(p.providers.addStake(0n), 'ZeroAmount');
    await expectRevert(p.providers.requestUnbond(0n), 'ZeroAmount');
    await expectRevert(p.providers.withdraw(), 'NothingToWithdraw');
    const info = await expectRevert(p.providers.requestUnbond(TOKEN(201)), 'InsufficientStake');
    expect(info.args).toEqual([TOKEN(201), TOKEN(200)]);
    await p.providers.requestUnbond(TOKEN(100));
    const rec = await p.providers.getProvider(p.address);
    expect(rec.stake).toBe(TOKEN(100));
    expect(rec.unbonding).toBe(TOKEN(100));
    await expectRevert(p.providers.withdraw(), 'UnbondingNotReady');
    await timeTravel(p.session, 7 * 24 * 3600);
    const before = await p.token.balanceOf(p.address);
    await p.providers.withdraw();
    expect(await p.token.balanceOf(p.address)).toBe(before + TOKEN(100));
    expect((await p.providers.getProvider(p.address)).unbonding).toBe(0n);
    await expectRevert(p.providers.withdraw(), 'NothingToWithdraw');
  });

  it('blocks withdrawal while the provider has an unsettled run', async () => {
    const p = f.provider;
    const price = (await p.providers.getProvider(p.address)).pricePerHour;
    const { runId } = await f.client.runs.openRun({
      provider: p.address,
      bundleHash: '0x' + '22'.repeat(32),
      nonce: 1n,
      samplingSecret: '0x' + '33'.repeat(32),
      escrow: TOKEN(10),
      pricePerHour: price
    });
    await p.providers.requestUnbond(TOKEN(1));
    await timeTravel(p.session, 7 * 24 * 3600);
    const info = await expectRevert(p.providers.withdraw(), 'ProviderHasActiveRuns');
    expect(info.args).toEqual([1n]);
    await f.client.runs.closeRun(runId);
    await timeTravel(p.session, 24 * 3600);
    await f.stranger.runs.settle(runId);
    await p.providers.withdraw();
    expect((await p.providers.getProvider(p.address)).activeRuns).toBe(0);
  });

  it('lets only the RunRegistry lock, unlock and slash', async () => {
    const registry = f.stranger.providers.contract;
    for (const call of [
      () => f.stranger.session.send('lock', () => registry.getFunction('lock')(f.provider.address)),
      () => f.stranger.session.send('unlock', () => registry.getFunction('unlock')(f.provider.address)),
      () => f.stranger.session.send('slash', () => registry.getFunction('slash')(f.provider.address, 1n))
    ]) {
      const info = await expectRevert(call(), 'NotRunRegistry');
      expect(info.args).toEqual([f.stranger.address]);
    }
  });

  it('RunRegistry refuses a mismatched registry, a window above the unbonding delay and a reward above 100 %', async () => {
    const signer = f.stranger.session.requireSigner();
    const deploy = async (registry: string, window: number, bps: number) => {
      const a = loadArtifact('RunRegistry');
      try {
        await new ContractFactory(a.abi as never, a.bytecode, signer).deploy(registry, window, TOKEN(1), bps);
      } catch (e) {
        throw chainError(e, 'Deploying RunRegistry');
      }
    };
    const mismatch = await expectRevert(
      deploy(f.deployment.contracts.providerRegistry, 3600, 0),
      'RegistryMismatch'
    );
    expect(mismatch.args).toEqual([f.deployment.contracts.runRegistry]);
    // A registry that names the next contract of `stranger` as its RunRegistry, with a 1-hour unbonding delay.
    const nonce = await f.stranger.session.provider.getTransactionCount(f.stranger.address);
    const reg = loadArtifact('ProviderRegistry');
    const registry = await new ContractFactory(reg.abi as never, reg.bytecode, signer).deploy(
      f.deployment.contracts.token,
      TOKEN(1),
      3600,
      getCreateAddress({ from: f.stranger.address, nonce: nonce + 1 })
    );
    await registry.waitForDeployment();
    const window = await expectRevert(
      deploy(await registry.getAddress(), 3601, 0),
      'WindowLongerThanUnbonding'
    );
    expect(window.args).toEqual([3601n, 3600n]);
    await expectRevert(deploy(await registry.getAddress(), 3600, 10_001), 'InvalidRewardBps');
  });
});
