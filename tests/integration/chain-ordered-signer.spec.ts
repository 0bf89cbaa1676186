/**
 * Many transactions of one local key at once (src/chain/ordered-signer.ts), on a real anvil: what the agent's
 * anchor queue relies on when it sends the checkpoints of every run side by side.
 */
import type { ITxResult } from '../../src/chain/session';
import { ChainSession } from '../../src/chain/session';
import { devKeyWallet } from '../../src/chain/wallet';
import { TokenClient } from '../../src/chain/token';
import { IChainFixture, expectRevert, random32, startChainFixture } from './chain-fixture';

describe('a local key sending many transactions at once', () => {
  let chain: IChainFixture;

  beforeAll(async () => {
    chain = await startChainFixture();
  });

  afterAll(async () => {
    await chain?.stop();
  });

  const nonceOf = async (tx: ITxResult) =>
    (await chain.deployer.session.provider.getTransaction(tx.hash))!.nonce;
  const pendingCount = (address: string) =>
    chain.deployer.session.provider.getTransactionCount(address, 'pending');

  it('gives concurrent sends consecutive nonces, and every one lands', async () => {
    const me = chain.stranger;
    const before = await pendingCount(me.address);
    const sent = await Promise.all(Array.from({ length: 12 }, () => me.token.faucet(me.address, 1n)));
    const nonces = (await Promise.all(sent.map(nonceOf))).sort((a, b) => a - b);
    expect(nonces).toEqual(Array.from({ length: 12 }, (_, i) => before + i));
    expect(await pendingCount(me.address)).toBe(before + 12);
  });

  it('a transaction that reverts takes no nonce: the sends around it still land', async () => {
    const me = await chain.actor(6);
    const before = await pendingCount(me.address);
    const anchorUnknownRun = me.runs.anchor(random32(), { index: 0, root: random32(), receiptCount: 1 });
    const [reverted, ...landed] = await Promise.allSettled([
      expectRevert(anchorUnknownRun, 'RunNotFound'),
      me.token.faucet(me.address, 1n),
      me.token.faucet(me.address, 1n)
    ]);
    expect(reverted.status).toBe('fulfilled');
    expect(landed.map(r => r.status)).toEqual(['fulfilled', 'fulfilled']);
    // No gap: the next one lands too (a nonce spent on the revert would leave it waiting in the pool forever).
    await me.token.faucet(me.address, 1n);
    expect(await pendingCount(me.address)).toBe(before + 3);
  });

  it('goes on when another sender of the same key used the next nonce', async () => {
    const me = await chain.actor(7);
    await me.token.faucet(me.address, 1n); // the session now keeps the next nonce locally
    const other = await ChainSession.connect(chain.deployment, devKeyWallet(me.key));
    try {
      const otherToken = new TokenClient(other);
      await otherToken.faucet(me.address, 1n);
      await otherToken.faucet(me.address, 1n);
    } finally {
      other.close();
    }
    const before = await pendingCount(me.address);
    const tx = await me.token.faucet(me.address, 1n);
    expect(await nonceOf(tx)).toBe(before);
  });

  it('goes on after a chain reorganisation dropped transactions it had sent', async () => {
    const me = await chain.actor(8);
    const rpc = me.session.provider;
    const snapshot = await rpc.send('evm_snapshot', []);
    await me.token.faucet(me.address, 1n);
    await me.token.faucet(me.address, 1n);
    await rpc.send('evm_revert', [snapshot]); // both are gone: the chain's count is back where it was
    const before = await pendingCount(me.address);
    const tx = await me.token.faucet(me.address, 1n); // a nonce counted ahead would wait in the pool forever
    expect(await nonceOf(tx)).toBe(before);
  });
});
