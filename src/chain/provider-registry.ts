/**
 * Typed client of contracts/ProviderRegistry.sol: register and update offers, stake, unbond, withdraw, and list.
 */
import { Contract, ContractTransactionResponse, EventLog } from 'ethers';
import { PROVIDER_REGISTRY_ABI } from './abi.js';
import { ChainSession, ITxResult } from './session.js';
import { TokenClient } from './token.js';

/** A provider as the registry stores it. */
export interface IProviderRecord {
  address: string;
  endpoint: string;
  capabilitiesURI: string;
  capabilitiesHash: string;
  pricePerHour: bigint;
  stake: bigint;
  unbonding: bigint;
  unbondingReadyAt: number;
  activeRuns: number;
  registered: boolean;
}

/** A provider's offer. */
export interface IProviderOffer {
  endpoint: string;
  /** Tokens (base units) per hour of run time. */
  pricePerHour: bigint;
  capabilitiesHash: string;
  capabilitiesURI: string;
}

/** Typed access to the ProviderRegistry of the configured chain. */
export class ProviderRegistryClient {
  readonly session: ChainSession;
  readonly contract: Contract;
  readonly token: TokenClient;

  constructor(session: ChainSession) {
    this.session = session;
    this.contract = new Contract(
      session.config.contracts.providerRegistry,
      PROVIDER_REGISTRY_ABI,
      session.signer ?? session.provider
    );
    this.token = new TokenClient(session);
  }

  /** Registers the wallet's account with `offer`, approving and locking `stake` tokens. */
  async register(offer: IProviderOffer, stake: bigint): Promise<ITxResult> {
    await this.token.ensureAllowance(this.contract.target as string, stake);
    return this.session.send('Registering the provider', () =>
      this.fn('register')(
        offer.endpoint,
        offer.pricePerHour,
        offer.capabilitiesHash,
        offer.capabilitiesURI,
        stake
      )
    );
  }

  /** Changes the wallet's offer; open runs keep their price. */
  async update(offer: IProviderOffer): Promise<ITxResult> {
    return this.session.send('Updating the provider', () =>
      this.fn('update')(offer.endpoint, offer.pricePerHour, offer.capabilitiesHash, offer.capabilitiesURI)
    );
  }

  /** Adds `amount` to the stake (approving it first). */
  async addStake(amount: bigint): Promise<ITxResult> {
    await this.token.ensureAllowance(this.contract.target as string, amount);
    return this.session.send('Adding stake', () => this.fn('addStake')(amount));
  }

  /** Starts unbonding `amount` of the stake. */
  async requestUnbond(amount: bigint): Promise<ITxResult> {
    return this.session.send('Requesting an unbond', () => this.fn('requestUnbond')(amount));
  }

  /** Withdraws unbonded stake after the delay. */
  async withdraw(): Promise<ITxResult> {
    return this.session.send('Withdrawing stake', () => this.fn('withdraw')());
  }

  /** The record of `address` (registered false when it never registered). */
  async getProvider(address: string): Promise<IProviderRecord> {
    const r = await this.session.call('Reading a provider', () => this.contract.getProvider(address));
    return Private.record(address, r);
  }

  /** Whether new runs may be opened with `address`. */
  async isActive(address: string): Promise<boolean> {
    return this.session.call('Reading a provider', () => this.contract.isActive(address));
  }

  /** The minimum stake in base units. */
  async minStake(): Promise<bigint> {
    return this.session.call('Reading the minimum stake', () => this.contract.minStake());
  }

  /** The unbonding delay in seconds. */
  async unbondingDelay(): Promise<number> {
    return Number(
      await this.session.call('Reading the unbonding delay', () => this.contract.unbondingDelay())
    );
  }

  /** All providers in registration order, read in pages of `pageSize`. */
  async listProviders(pageSize = 50): Promise<IProviderRecord[]> {
    const count = Number(await this.session.call('Counting providers', () => this.contract.providerCount()));
    const out: IProviderRecord[] = [];
    for (let offset = 0; offset < count; offset += pageSize) {
      const [addrs, records] = await this.session.call('Listing providers', () =>
        this.contract.listProviders(offset, pageSize)
      );
      (addrs as string[]).forEach((a, i) => out.push(Private.record(a, records[i])));
    }
    return out;
  }

  /** ProviderRegistered events since the deployment block (for a picker that follows new providers). */
  async registrations(): Promise<{ provider: string; endpoint: string; blockNumber: number }[]> {
    const logs = await this.contract.queryFilter(
      this.contract.filters.ProviderRegistered(),
      this.session.config.deploymentBlock
    );
    return logs
      .filter((l): l is EventLog => l instanceof EventLog)
      .map(l => ({ provider: l.args[0], endpoint: l.args[1], blockNumber: l.blockNumber }));
  }

  private fn(name: string): (...args: unknown[]) => Promise<ContractTransactionResponse> {
    return this.contract.getFunction(name) as unknown as (
      ...args: unknown[]
    ) => Promise<ContractTransactionResponse>;
  }
}

const Private = {
  /** Maps the ABI tuple to a record with JavaScript numbers where they fit. */
  record(address: string, r: Record<string, unknown>): IProviderRecord {
    return {
      address,
      endpoint: r.endpoint as string,
      capabilitiesURI: r.capabilitiesURI as string,
      capabilitiesHash: r.capabilitiesHash as string,
      pricePerHour: r.pricePerHour as bigint,
      stake: r.stake as bigint,
      unbonding: r.unbonding as bigint,
      unbondingReadyAt: Number(r.unbondingReadyAt),
      activeRuns: Number(r.activeRuns),
      registered: r.registered as boolean
    };
  }
};
