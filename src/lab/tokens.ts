/**
 * Tokens and interfaces of the extension's features (STYLE.md §3): features depend on these, never on each
 * other's classes. Two halves meet here:
 *  - the run pipeline (settings, chain and wallet, providers, remote kernels, provisioning): IAinSettings,
 *    IAinChain, IAinRuns;
 *  - the evidence side (metadata.ain, cell badges, sidebar, status bar, verification in a worker): IAinEvidence,
 *    IAinWorker.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import type { Signer } from 'ethers';
import type { IReceiptDomain, ISignedReceipt } from '../core/receipt.js';
import type { Hex32 } from '../core/hash.js';
import type { IChainConfig } from '../chain/config.js';
import type { AgentClient } from '../chain/agent-client.js';
import type { IAinRemoteServer } from './kernel-router.js';

// Data that travels with a notebook (`metadata.ain`) and the re-check's results are core records (src/core/
// evidence.ts), so that the CLI's `ain verify` reads them too; re-exported here for the extension's features.
export type {
  IAinChainAccess,
  IAinCheckpointRecord,
  IAinEquivocationRecord,
  IAinNotebookEvidence,
  IAinReceiptCheck,
  IAinReceiptRecord,
  IAinRecheckResult,
  IAinRunRecord,
  IAinVerificationRecord
} from '../core/evidence.js';
import type {
  IAinChainAccess,
  IAinEquivocationRecord,
  IAinNotebookEvidence,
  IAinRecheckResult,
  IAinRunRecord,
  IAinVerificationRecord,
  IAinReceiptRecord,
  IAinCheckpointRecord
} from '../core/evidence.js';

// ---------------------------------------------------------------------------------------------------------------
// The run pipeline
// ---------------------------------------------------------------------------------------------------------------

/** The extension's settings (schema/settings.json), read once and kept current. */
export interface IAinSettingsValues {
  rpcUrl: string;
  chainId: number;
  /** Contract addresses; empty strings mean "read them from the development deployment". */
  contracts: { token: string; providerRegistry: string; runRegistry: string };
  deploymentBlock: number;
  walletMode: 'injected' | 'development-key';
  /** A development private key: accepted on development chain ids (31337, 1337) only. */
  developmentKey: string;
  /** Default budget per run, in whole tokens (decimal string). */
  defaultBudget: string;
  checkpointEveryReceipts: number;
  checkpointEverySeconds: number;
  rtol: number;
  atol: number;
}

export interface IAinSettings {
  readonly values: IAinSettingsValues;
  readonly changed: ISignal<IAinSettings, IAinSettingsValues>;
}
export const IAinSettings = new Token<IAinSettings>(
  'jupyterlab-ain:IAinSettings',
  'The AI Network settings.'
);

/** A provider as the picker shows it. */
export interface IAinProviderListing {
  address: string;
  endpoint: string;
  /** Price per hour in token base units (decimal string). */
  pricePerHour: string;
  stake: string;
  capabilities: string;
  /** Settled and attested runs, and mismatches attested against it. */
  reputation: { settled: number; attested: number; mismatches: number };
  /** Filled by probing the endpoint: null while unknown, false when unreachable. */
  reachable: boolean | null;
  latencyMs: number | null;
}

/** The chain and the wallet, as the extension uses them. */
export interface IAinChain {
  readonly config: IChainConfig | null;
  /** The connected account, or null until the wallet is connected. */
  readonly account: string | null;
  readonly changed: ISignal<IAinChain, void>;
  /** Connects the wallet; refuses (with the reason) a wallet on another chain id than the settings. */
  connect(): Promise<string>;
  signer(): Promise<Signer>;
  /** Providers from the on-chain registry, probed for reachability and latency. */
  providers(): Promise<IAinProviderListing[]>;
  /** The EIP-712 domain receipts of this chain are signed under. */
  receiptDomain(): IReceiptDomain;
}
export const IAinChain = new Token<IAinChain>('jupyterlab-ain:IAinChain', 'Chain, contracts and wallet.');

/** A run of this JupyterLab session, live or restored from a notebook. */
export interface IAinRun {
  readonly record: IAinRunRecord;
  /** The notebook path the run belongs to. */
  readonly path: string;
  readonly receipts: readonly IAinReceiptRecord[];
  readonly checkpoints: readonly IAinCheckpointRecord[];
  /** Pairs of conflicting receipts the provider signed for one step (seen live). */
  readonly equivocations: readonly IAinEquivocationRecord[];
  /**
   * Set for a verifier's run: the run id it re-executes (Reproduce on another provider). Such a run is not the
   * notebook's: its receipts never become the notebook's evidence and runForPath skips it.
   */
  readonly reproduces?: Hex32;
  /** Token base units spent so far at the provider's price (decimal string). */
  spent(): string;
}

/** What changed: a run's state, a new receipt, a checkpoint queued or anchored, a conflicting receipt. */
export interface IAinRunChange {
  run: IAinRun;
  kind: 'state' | 'receipt' | 'checkpoint' | 'equivocation';
  receipt?: IAinReceiptRecord;
  checkpoint?: IAinCheckpointRecord;
  equivocation?: IAinEquivocationRecord;
}

/** What the user chose in the "Run on AI Network" picker. */
export interface IProvisionRequest {
  /** Notebook path (the notebook panel's context path). */
  path: string;
  provider: IAinProviderListing;
  /** Whole tokens (decimal string); becomes the escrow. */
  budget: string;
}

/** The runs of this session: provisioning, live receipts and checkpoints, and the run actions. */
export interface IAinRuns {
  readonly runs: readonly IAinRun[];
  readonly changed: ISignal<IAinRuns, IAinRunChange>;
  runForPath(path: string): IAinRun | undefined;
  /** Packs (in the worker), opens the run on-chain, uploads, follows progress, connects the notebook's kernel. */
  provision(request: IProvisionRequest): Promise<IAinRun>;
  stop(runId: Hex32): Promise<void>;
  anchorNow(runId: Hex32): Promise<void>;
  settle(runId: Hex32): Promise<void>;
  /**
   * Provisions a verifier's run of the notebook at `request.path` on another provider, without binding it to the
   * notebook panel: the caller connects its own kernel to the returned server and ends the run with stop().
   */
  openVerifierServer(request: IProvisionRequest & { reproduces: Hex32 }): Promise<IAinRemoteServer>;
  /**
   * A logged-in client of a run's provider: the session's own, or a new login with the wallet (the agent answers
   * only the run's client: others get LAB_AGENT_REFUSED).
   */
  agentFor(record: IAinRunRecord): Promise<AgentClient>;
  /** Whether this browser holds the run's sampling secret (the client's, kept until it is revealed). */
  hasSamplingSecret(record: IAinRunRecord): boolean;
  /** Reveals the run's sampling secret on-chain and records revealTx (and the secret) in the run record. */
  revealSamplingSecret(record: IAinRunRecord): Promise<{ txHash: string }>;
}
export const IAinRuns = new Token<IAinRuns>('jupyterlab-ain:IAinRuns', 'Runs on AI Network providers.');

// ---------------------------------------------------------------------------------------------------------------
// The evidence side
// ---------------------------------------------------------------------------------------------------------------

/** The level a cell's result has reached, shown as its badge. */
export type BadgeState =
  | 'none'
  | 'running'
  | 'signed'
  | 'anchored'
  | 'checkpoint-checked'
  | 'reproduced'
  | 'objective-verified'
  | 'mismatch'
  | 'invalid'
  | 'stale';

/** Evidence of the open notebooks, per cell: restored from metadata.ain, updated from live runs. */
export interface IAinEvidence {
  readonly changed: ISignal<IAinEvidence, { path: string; cellId?: string }>;
  /** A cell's badge state and the records behind it. */
  cellState(path: string, cellId: string): { state: BadgeState; receipt?: IAinReceiptRecord; detail: string };
  /** Records a verification (from reproduce, checkpoint or objective checks) and updates the badges. */
  addVerification(path: string, record: IAinVerificationRecord): void;
  /** Merges records into a notebook's evidence (a revealed secret, a challenge transaction) and saves them. */
  merge(path: string, extra: Partial<IAinNotebookEvidence>): void;
  /** The evidence of an open notebook (as it will be saved in metadata.ain), or undefined. */
  evidence(path: string): IAinNotebookEvidence | undefined;
  /** The last re-check of a notebook's evidence (signatures, chain, proofs against on-chain roots), if any. */
  lastCheck(path: string): IAinRecheckResult | undefined;
  /** Paths of the open notebooks that carry evidence. */
  paths(): string[];
  /** Re-checks a notebook's evidence in the worker, against the chain when it is reachable. */
  recheck(path: string): Promise<IAinRecheckResult | undefined>;
}
export const IAinEvidence = new Token<IAinEvidence>(
  'jupyterlab-ain:IAinEvidence',
  'Per-cell verification evidence.'
);

/** The remote interface of the comlink worker (`verify.worker.ts`): hashing, signatures and proofs off the UI thread. */
export interface IAinWorkerApi {
  notebookHash(notebook: object): Promise<Hex32>;
  /** Packs files into a bundle (bytes transferred back) with its hash and environment report. */
  pack(
    notebookPath: string,
    files: Record<string, Uint8Array>
  ): Promise<{ bytes: Uint8Array; bundleHash: Hex32 }>;
  /** For each receipt: null when it verifies against `signer` in `domain`, else the reason. */
  verifyReceipts(
    domain: IReceiptDomain,
    signer: string,
    receipts: ISignedReceipt[]
  ): Promise<(string | null)[]>;
  /** For each step: whether the receipt digest is proven under the root (proof computed from all digests). */
  proveSteps(digests: Hex32[], root: Hex32, steps: number[]): Promise<boolean[]>;
  /**
   * Re-checks a notebook's evidence: each receipt's signature, digest and chain, and its inclusion under the
   * checkpoint roots anchored on-chain (read through `chain`; null checks offline only).
   */
  recheck(evidence: IAinNotebookEvidence, chain: IAinChainAccess | null): Promise<IAinRecheckResult>;
}

export const IAinWorker = new Token<IAinWorkerApi>('jupyterlab-ain:IAinWorker', 'The verification worker.');
