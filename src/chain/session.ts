/**
 * A connection to the configured chain: a provider for reads, an optional signer for writes, and the one path
 * every transaction takes (chain-id check, send, wait, decode the revert).
 */
import { ContractTransactionResponse, JsonRpcApiProvider, Log, Signer, isError } from 'ethers';
import { assert, makeError } from '../core/errors.js';
import { IChainConfig, parseChainConfig } from './config.js';
import { chainError } from './errors.js';
import { assertChainId, jsonRpcProvider } from './rpc.js';
import { IWalletAdapter } from './wallet.js';

/** What a mined transaction left behind. */
export interface ITxResult {
  hash: string;
  blockNumber: number;
  gasUsed: bigint;
  logs: readonly Log[];
}

/** A checked connection to one chain. */
export class ChainSession {
  readonly config: IChainConfig;
  readonly provider: JsonRpcApiProvider;
  readonly signer: Signer | null;
  /**
   * How long send() waits for a transaction to be mined before CHAIN_TX_TIMEOUT; null: as long as it takes (a
   * person watching a wallet). An unattended sender (the agent) sets it: a transaction the chain dropped (a
   * reorganisation, an evicted pool entry) is otherwise waited for forever.
   */
  txTimeoutMs: number | null = null;
  private readonly label: string;

  private constructor(
    config: IChainConfig,
    provider: JsonRpcApiProvider,
    signer: Signer | null,
    label: string
  ) {
    this.config = config;
    this.provider = provider;
    this.signer = signer;
    this.label = label;
  }

  /**
   * Connects to `config`'s chain, read-only without a wallet. Throws CHAIN_ID_MISMATCH when the endpoint (or the
   * wallet) serves another chain, CHAIN_UNREACHABLE when it does not answer, CHAIN_WALLET_REFUSED when the wallet
   * may not be used on this chain.
   */
  static async connect(config: IChainConfig, wallet?: IWalletAdapter): Promise<ChainSession> {
    const checked = parseChainConfig(config);
    if (wallet) {
      const { provider, signer, label } = await wallet.connect(checked);
      await assertChainId(provider, checked.chainId, label);
      return new ChainSession(checked, provider, signer, label);
    }
    const provider = jsonRpcProvider(checked.rpcUrl, checked.chainId);
    await assertChainId(provider, checked.chainId, checked.rpcUrl);
    return new ChainSession(checked, provider, null, checked.rpcUrl);
  }

  /** The signer's address; throws CHAIN_WALLET_REFUSED on a read-only session. */
  async address(): Promise<string> {
    return (await this.requireSigner()).getAddress();
  }

  /** The signer, or CHAIN_WALLET_REFUSED on a read-only session. */
  requireSigner(): Signer {
    assert(
      this.signer !== null,
      'CHAIN_WALLET_REFUSED',
      'This action sends a transaction: connect a wallet (injected wallet, keystore or development key) first.'
    );
    return this.signer;
  }

  /**
   * Sends one transaction: re-checks the chain id right before signing (an injected wallet can switch chains at
   * any time), waits for it to be mined, and turns a revert into CHAIN_REVERTED with the contract's reason.
   */
  async send(action: string, build: () => Promise<ContractTransactionResponse>): Promise<ITxResult> {
    this.requireSigner();
    await assertChainId(this.provider, this.config.chainId, this.label);
    try {
      // Concurrent sends of one session are fine: a local key's OrderedSigner gives them consecutive nonces, an
      // injected wallet numbers them itself; the waits for mining overlap, so they land in the same blocks.
      const tx = await build();
      const receipt = await tx.wait(1, this.txTimeoutMs ?? undefined).catch(e => {
        throw isError(e, 'TIMEOUT')
          ? makeError(
              'CHAIN_TX_TIMEOUT',
              `${action}: the transaction ${tx.hash} was not mined within ${this.txTimeoutMs! / 1000} s (dropped, ` +
                'or the chain is congested). Look at the chain again before sending it anew.',
              { txHash: tx.hash }
            )
          : e;
      });
      assert(receipt !== null, 'CHAIN_REVERTED', `${action}: the transaction ${tx.hash} was dropped.`);
      return {
        hash: receipt.hash,
        blockNumber: receipt.blockNumber,
        gasUsed: receipt.gasUsed,
        logs: receipt.logs
      };
    } catch (e) {
      throw chainError(e, action);
    }
  }

  /** Runs a read-only call, decoding a revert like send() does. */
  async call<T>(action: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (e) {
      throw chainError(e, action);
    }
  }

  /** Stops the provider's polling so that a Node process can exit. */
  close(): void {
    this.provider.destroy();
  }
}
