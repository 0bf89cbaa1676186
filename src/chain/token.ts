/**
 * The payment and staking token: an ERC-20 (TestAIN with a faucet on development chains, AIN in production).
 */
import { Contract, ContractTransactionResponse } from 'ethers';
import { TEST_AIN_ABI } from './abi.js';
import { ChainSession, ITxResult } from './session.js';

/** Typed access to the configured token. */
export class TokenClient {
  readonly session: ChainSession;
  readonly contract: Contract;

  constructor(session: ChainSession) {
    this.session = session;
    this.contract = new Contract(
      session.config.contracts.token,
      TEST_AIN_ABI,
      session.signer ?? session.provider
    );
  }

  /** The balance of `account` in base units (18 decimals). */
  async balanceOf(account: string): Promise<bigint> {
    return this.session.call('Reading a token balance', () => this.contract.balanceOf(account));
  }

  /** What `spender` may still take from `owner`. */
  async allowance(owner: string, spender: string): Promise<bigint> {
    return this.session.call('Reading a token allowance', () => this.contract.allowance(owner, spender));
  }

  /** Approves `spender` for `amount`. */
  async approve(spender: string, amount: bigint): Promise<ITxResult> {
    return this.session.send('Approving tokens', () => this.fn('approve')(spender, amount));
  }

  /** Approves `spender` for `amount` unless the allowance already covers it; returns null when nothing was sent. */
  async ensureAllowance(spender: string, amount: bigint): Promise<ITxResult | null> {
    const owner = await this.session.address();
    if ((await this.allowance(owner, spender)) >= amount) {
      return null;
    }
    return this.approve(spender, amount);
  }

  /** Transfers `amount` to `to`. */
  async transfer(to: string, amount: bigint): Promise<ITxResult> {
    return this.session.send('Transferring tokens', () => this.fn('transfer')(to, amount));
  }

  /** Mints test tokens to `to` (TestAIN only; a production token has no faucet). */
  async faucet(to: string, amount: bigint): Promise<ITxResult> {
    return this.session.send('Calling the test-token faucet', () => this.fn('faucet')(to, amount));
  }

  private fn(name: string): (...args: unknown[]) => Promise<ContractTransactionResponse> {
    return this.contract.getFunction(name) as unknown as (
      ...args: unknown[]
    ) => Promise<ContractTransactionResponse>;
  }
}
