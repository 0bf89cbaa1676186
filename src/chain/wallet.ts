/**
 * Wallet adapters: how a signer is obtained, per runtime. An injected EIP-1193 wallet in the browser; an ethers
 * Wallet (e.g. decrypted from a JSON keystore by keystore-node.ts) in Node; raw development keys only on
 * development chains, so a key pasted into a config file can never sign on a chain where tokens have value.
 */
import { Eip1193Provider, JsonRpcApiProvider, Signer, Wallet, toBeHex } from 'ethers';
import { makeError } from '../core/errors.js';
import { IChainConfig, isDevChainId, DEV_CHAIN_IDS } from './config.js';
import { OrderedSigner } from './ordered-signer.js';
import { browserProvider, endpointChainId, jsonRpcProvider } from './rpc.js';

/** A way to get a signer for the configured chain. */
export interface IWalletAdapter {
  /** Returns the provider to use, a signer on it and a label for messages (the chain id is checked by the caller). */
  connect(config: IChainConfig): Promise<{ provider: JsonRpcApiProvider; signer: Signer; label: string }>;
}

/**
 * A raw private key, accepted only on development chain ids (31337, 1337); anything else throws
 * CHAIN_WALLET_REFUSED before a provider is even created.
 */
export function devKeyWallet(privateKey: string): IWalletAdapter {
  return {
    async connect(config) {
      if (!isDevChainId(config.chainId)) {
        throw makeError(
          'CHAIN_WALLET_REFUSED',
          `Raw development keys are accepted only on development chains (${DEV_CHAIN_IDS.join(', ')}), not on ` +
            `chain ${config.chainId}. Use an encrypted keystore or a browser wallet.`,
          { chainId: config.chainId }
        );
      }
      const provider = jsonRpcProvider(config.rpcUrl, config.chainId);
      return { provider, signer: new OrderedSigner(new Wallet(privateKey, provider)), label: config.rpcUrl };
    }
  };
}

/** An already unlocked ethers Wallet (from an encrypted keystore): valid on any chain. */
export function unlockedWallet(wallet: Wallet): IWalletAdapter {
  return {
    async connect(config) {
      const provider = jsonRpcProvider(config.rpcUrl, config.chainId);
      return { provider, signer: new OrderedSigner(wallet.connect(provider)), label: config.rpcUrl };
    }
  };
}

/**
 * An injected EIP-1193 wallet (`window.ethereum`). When it is on another chain, asks it to switch
 * (wallet_switchEthereumChain); the session then checks the chain id again and refuses to sign on a mismatch.
 */
export function injectedWallet(injected: Eip1193Provider): IWalletAdapter {
  return {
    async connect(config) {
      const provider = browserProvider(injected);
      if ((await endpointChainId(provider, 'the browser wallet')) !== config.chainId) {
        try {
          await injected.request({
            method: 'wallet_switchEthereumChain',
            params: [{ chainId: toBeHex(config.chainId) }]
          });
        } catch {
          // The user declined or the wallet does not know the chain: the chain-id check names the fix.
        }
      }
      await injected.request({ method: 'eth_requestAccounts', params: [] });
      return { provider, signer: await provider.getSigner(), label: 'the browser wallet' };
    }
  };
}
