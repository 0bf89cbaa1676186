import { isAinError } from '../core/errors';
import { isDevChainId, parseChainConfig } from './config';
import { devKeyWallet } from './wallet';

const GOOD = {
  rpcUrl: 'http://127.0.0.1:8545',
  chainId: 31337,
  deploymentBlock: 0,
  contracts: {
    token: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
    providerRegistry: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
    runRegistry: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0'
  }
};

describe('chain config', () => {
  it('checksums addresses and keeps the record', () => {
    expect(parseChainConfig(GOOD).contracts.token).toBe('0x5FbDB2315678afecb367f032d93F642f64180aa3');
  });

  it.each([
    [{ ...GOOD, rpcUrl: '127.0.0.1:8545' }, 'rpcUrl'],
    [{ ...GOOD, chainId: '31337' }, 'chainId'],
    [{ ...GOOD, deploymentBlock: -1 }, 'deploymentBlock'],
    [{ ...GOOD, contracts: undefined }, 'contracts'],
    [{ ...GOOD, contracts: { ...GOOD.contracts, runRegistry: '0x1234' } }, 'contracts.runRegistry']
  ])('names the bad field %#', (value, field) => {
    try {
      parseChainConfig(value);
      throw new Error('accepted');
    } catch (e) {
      expect(isAinError(e, 'CHAIN_CONFIG_INVALID')).toBe(true);
      expect((e as { info: { field: string } }).info.field).toBe(field);
    }
  });

  it('knows the development chain ids', () => {
    expect([31337, 1337, 1, 8453].map(isDevChainId)).toEqual([true, true, false, false]);
  });

  it('refuses raw development keys on any other chain, before connecting', async () => {
    const wallet = devKeyWallet('0x' + '01'.repeat(32));
    await expect(wallet.connect({ ...parseChainConfig(GOOD), chainId: 1 })).rejects.toMatchObject({
      code: 'CHAIN_WALLET_REFUSED'
    });
  });
});
