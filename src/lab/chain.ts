/**
 * Provides IAinChain: the configured chain, the wallet (an injected EIP-1193 wallet, or a development key on
 * development chains only), the provider registry with reputation, and reachability/latency probes of each
 * provider's agent. The chain id is checked before anything is signed (ChainSession does it again per transaction,
 * since an injected wallet can switch chains at any time).
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ISignal, Signal } from '@lumino/signaling';
import { Contract, Eip1193Provider, EventLog, Signer } from 'ethers';
import { RUN_REGISTRY_ABI } from '../chain/abi.js';
import { IChainConfig, isDevChainId, parseChainConfig } from '../chain/config.js';
import { ProviderRegistryClient } from '../chain/provider-registry.js';
import { ChainSession } from '../chain/session.js';
import { IWalletAdapter, devKeyWallet, injectedWallet } from '../chain/wallet.js';
import type { IReceiptDomain } from '../core/receipt.js';
import { labError } from './errors.js';
import { probeAgent } from './agent-client.js';
import { pageUrl } from './page-url.js';
import { IAinChain, IAinProviderListing, IAinSettings, IAinSettingsValues } from './tokens.js';

export const chainPlugin: JupyterFrontEndPlugin<IAinChain> = {
  id: 'jupyterlab-ain:chain',
  description: 'The chain, the wallet and the provider registry of AI Network.',
  autoStart: true,
  requires: [IAinSettings],
  provides: IAinChain,
  activate: (_app: JupyterFrontEnd, settings: IAinSettings) => new AinChain({ settings })
};

/** The chain config of the settings, or null while contract addresses are missing. */
export function chainConfigOf(values: IAinSettingsValues): IChainConfig | null {
  const { token, providerRegistry, runRegistry } = values.contracts;
  if (!token || !providerRegistry || !runRegistry) {
    return null;
  }
  return parseChainConfig({
    // A path (`/user/<name>/proxy/8545/` on a JupyterHub) is made absolute against this page.
    rpcUrl: pageUrl(values.rpcUrl),
    chainId: values.chainId,
    contracts: { token, providerRegistry, runRegistry },
    deploymentBlock: values.deploymentBlock
  });
}

/**
 * The wallet adapter the settings ask for. A development key is refused on other chains (devKeyWallet refuses
 * too, before any provider exists); an injected wallet must be present.
 */
export function walletOf(values: IAinSettingsValues, injected: Eip1193Provider | undefined): IWalletAdapter {
  if (values.walletMode === 'development-key') {
    if (!isDevChainId(values.chainId)) {
      throw labError(
        'LAB_WALLET_MISSING',
        `The development key is accepted on development chains (31337, 1337) only, not chain ${values.chainId}. ` +
          "Set the wallet to 'injected' in Settings › AI Network and use a browser wallet."
      );
    }
    if (!/^0x[0-9a-fA-F]{64}$/.test(values.developmentKey)) {
      throw labError(
        'LAB_WALLET_MISSING',
        'The wallet is set to a development key but the key is missing or malformed: put a 0x-prefixed 32-byte ' +
          'key in Settings › AI Network › Development key (`ain dev` does it for you).'
      );
    }
    return devKeyWallet(values.developmentKey);
  }
  if (!injected) {
    throw labError(
      'LAB_WALLET_MISSING',
      'No browser wallet (window.ethereum) in this browser: install one (e.g. MetaMask), or on a development chain ' +
        "set the wallet to 'development-key' in Settings › AI Network."
    );
  }
  return injectedWallet(injected);
}

/** IAinChain over the settings. */
export class AinChain implements IAinChain {
  private readonly _settings: IAinSettings;
  private readonly _changed = new Signal<IAinChain, void>(this);
  private _session: Promise<ChainSession> | null = null;
  private _reader: Promise<ChainSession> | null = null;
  private _account: string | null = null;

  constructor(options: AinChain.IOptions) {
    this._settings = options.settings;
    this._settings.changed.connect(this._onSettings, this);
  }

  get config(): IChainConfig | null {
    try {
      return chainConfigOf(this._settings.values);
    } catch {
      return null;
    }
  }

  get account(): string | null {
    return this._account;
  }

  get changed(): ISignal<IAinChain, void> {
    return this._changed;
  }

  async connect(): Promise<string> {
    const session = await this.session();
    this._account = await session.address();
    this._changed.emit();
    return this._account;
  }

  async signer(): Promise<Signer> {
    return (await this.session()).requireSigner();
  }

  /** The wallet's session (connected on first use; the chain id is checked by ChainSession.connect). */
  session(): Promise<ChainSession> {
    if (!this._session) {
      const config = this.requireConfig();
      const injected = (globalThis as { ethereum?: Eip1193Provider }).ethereum;
      this._session = ChainSession.connect(config, walletOf(this._settings.values, injected));
      this._session.catch(() => (this._session = null));
    }
    return this._session;
  }

  async providers(): Promise<IAinProviderListing[]> {
    const reader = await this.reader();
    const records = (await new ProviderRegistryClient(reader).listProviders()).filter(
      r => r.registered && r.stake > 0n
    );
    const reputation = await Private.reputation(reader).catch(() => new Map<string, Private.IRep>());
    return Promise.all(
      records.map(async r => {
        const endpoint = pageUrl(r.endpoint);
        const probe = await probeAgent(endpoint);
        const rep = reputation.get(r.address.toLowerCase());
        const listing: IAinProviderListing = {
          address: r.address,
          endpoint,
          pricePerHour: r.pricePerHour.toString(),
          stake: r.stake.toString(),
          capabilities: probe.capabilities ? JSON.stringify(probe.capabilities) : '',
          reputation: rep ?? { settled: 0, attested: 0, mismatches: 0 },
          reachable: probe.reachable,
          latencyMs: probe.latencyMs
        };
        return listing;
      })
    );
  }

  receiptDomain(): IReceiptDomain {
    const config = this.requireConfig();
    return { chainId: config.chainId, verifyingContract: config.contracts.runRegistry };
  }

  /** A read-only session (no wallet needed to list providers). */
  reader(): Promise<ChainSession> {
    if (!this._reader) {
      this._reader = ChainSession.connect(this.requireConfig());
      this._reader.catch(() => (this._reader = null));
    }
    return this._reader;
  }

  private requireConfig(): IChainConfig {
    const config = this.config;
    if (!config) {
      throw labError(
        'LAB_SETTINGS_INCOMPLETE',
        'The AI Network contract addresses are not set: fill them in Settings › AI Network (token, ' +
          'ProviderRegistry, RunRegistry), or start JupyterLab with `ain dev`, which sets them.'
      );
    }
    return config;
  }

  private _onSettings(): void {
    // Everything is rebuilt from the new settings on next use; the old sessions stop polling.
    void this._session?.then(s => s.close()).catch(() => undefined);
    void this._reader?.then(s => s.close()).catch(() => undefined);
    this._session = null;
    this._reader = null;
    this._account = null;
    this._changed.emit();
  }
}

export namespace AinChain {
  export interface IOptions {
    settings: IAinSettings;
  }
}

namespace Private {
  export interface IRep {
    settled: number;
    attested: number;
    mismatches: number;
  }

  /**
   * Reputation from RunRegistry events: runs settled and attested per provider, and slashings (proven
   * equivocations or contradicted checkpoints) as mismatches.
   */
  export async function reputation(session: ChainSession): Promise<Map<string, IRep>> {
    const registry = new Contract(session.config.contracts.runRegistry, RUN_REGISTRY_ABI, session.provider);
    const from = session.config.deploymentBlock;
    const logs = async (name: string) =>
      (await registry.queryFilter(registry.filters[name](), from)).filter(
        (l): l is EventLog => l instanceof EventLog
      );
    const [opened, settled, attested, slashed] = await Promise.all([
      logs('RunOpened'),
      logs('RunSettled'),
      logs('Attested'),
      logs('RunSlashed')
    ]);
    const providerOf = new Map(
      opened.map(l => [l.args.runId as string, (l.args.provider as string).toLowerCase()])
    );
    const out = new Map<string, IRep>();
    const bump = (runId: string, key: keyof IRep) => {
      const p = providerOf.get(runId);
      if (p) {
        const rep = out.get(p) ?? { settled: 0, attested: 0, mismatches: 0 };
        rep[key] += 1;
        out.set(p, rep);
      }
    };
    settled.forEach(l => bump(l.args.runId, 'settled'));
    attested.forEach(l => bump(l.args.runId, 'attested'));
    slashed.forEach(l => bump(l.args.runId, 'mismatches'));
    return out;
  }
}
