import { Interface } from 'ethers';
import { PROVIDER_REGISTRY_ABI, RUN_REGISTRY_ABI, TEST_AIN_ABI } from './abi';
import { CHAIN_ERRORS, EXPLAINED_ERRORS, chainError, decodeRevert } from './errors';

describe('chain errors', () => {
  it('explains every custom error of every contract', () => {
    const names = [RUN_REGISTRY_ABI, PROVIDER_REGISTRY_ABI, TEST_AIN_ABI]
      .flatMap(abi => (abi as readonly { type: string; name?: string }[]).filter(f => f.type === 'error'))
      .map(f => f.name);
    expect(names.filter(n => !EXPLAINED_ERRORS.includes(n!))).toEqual([]);
  });

  it('turns revert data into CHAIN_REVERTED with a message that says what to do', () => {
    const data = CHAIN_ERRORS.encodeErrorResult('ChallengeWindowOpen', [1764000000n]);
    expect(decodeRevert(data)?.name).toBe('ChallengeWindowOpen');
    const e = chainError({ code: 'CALL_EXCEPTION', data }, 'Settling the run') as Error & { code: string };
    expect(e.code).toBe('CHAIN_REVERTED');
    expect(e.message).toBe(
      'Settling the run was refused by the contract: The challenge window is open until 2025-11-24T16:00:00.000Z; settle after that.'
    );
    // Wallets nest the data one or two levels down.
    const nested = chainError({ error: { data: { data } } }, 'Settling the run') as Error & { code: string };
    expect(nested.code).toBe('CHAIN_REVERTED');
  });

  it('leaves errors that are not reverts alone', () => {
    const e = new Error('socket hang up');
    expect(chainError(e, 'x')).toBe(e);
    expect(decodeRevert('0x12345678')).toBeNull();
    expect(decodeRevert(new Interface(['error Other(uint256)']).encodeErrorResult('Other', [1]))).toBeNull();
  });
});
