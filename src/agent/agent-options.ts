/**
 * The configuration of a ProviderAgent (the CLI fills it from its options) and the rule that keeps the
 * deliberate faults off chains where tokens have value.
 */
import type { SigningKey } from 'ethers';
import { makeError } from '../core/errors.js';
import { isDevChainId } from '../chain/config.js';
import type { ChainSession } from '../chain/session.js';
import type { AgentDatabase } from './database.js';
import type { ILogger } from './metrics.js';
import type { IAgentLimits } from './run-limits.js';
import type { FaultMode, IRunContext, IRunRuntime, IRunStore } from './tokens.js';

/** Everything the agent is configured with (the CLI fills it from its options). */
export interface IProviderAgentOptions {
  dataDir: string;
  /** The provider's chain session, with its signer (anchors are sent from it). */
  session: ChainSession;
  /** The provider's key, for receipts (the same account as the session's signer). */
  signingKey: SigningKey;
  /** The host[:port] clients reach the agent at: the EIP-4361 domain of login messages. */
  domain: string;
  pricePerHour: bigint;
  capabilities?: Record<string, unknown>;
  limits?: Partial<IAgentLimits>;
  checkpoint?: { everyReceipts?: number; everySeconds?: number };
  auth?: { tokenTtlSeconds?: number; loginTtlSeconds?: number };
  /** Anchoring retries' backoff, and how often recorded anchors are reconciled with the chain (anchor-queue.ts). */
  anchorRetry?: { baseMs?: number; maxMs?: number; reconcileSeconds?: number };
  /** How often ended runs are closed and settled on-chain, seconds (settlement.ts; default 300, 0: never). */
  settleEverySeconds?: number;
  fault?: FaultMode;
  /** The kernel half of a run; without it runs are admitted but their Jupyter API answers 503. */
  createRuntime?: (ctx: IRunContext, store: IRunStore) => IRunRuntime;
  /** The receipt store (default: the SQLite ReceiptStore on the agent database). */
  createStore?: (db: AgentDatabase) => IRunStore;
  logger?: ILogger;
}

/** Refuses a fault mode on a chain where tokens have value; AGENT_FAULT_REFUSED says why. */
export function checkFault(fault: FaultMode | undefined, chainId: number): void {
  if (fault !== undefined && !isDevChainId(chainId)) {
    throw makeError(
      'AGENT_FAULT_REFUSED',
      `--fault ${fault} makes the agent cheat on purpose and is allowed only on development chains (31337, 1337), ` +
        `not on chain ${chainId}. Remove --fault, or point the agent at the development chain.`,
      { chainId, fault }
    );
  }
}
