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
import type { ICheckpoint } from '../core/merkle.js';
import type { IReceiptDomain, ISignedReceipt } from '../core/receipt.js';
import type { Hex32 } from '../core/hash.js';
import type { IChainConfig } from '../chain/config.js';

// ---------------------------------------------------------------------------------------------------------------
// Data that travels with a notebook: `metadata.ain` (DESIGN.md §6)
// ---------------------------------------------------------------------------------------------------------------

/** A run as recorded in a notebook: enough to find it on-chain and at its provider again. */
export interface IAinRunRecord {
  chainId: number;
  /** The RunRegistry address: with chainId, the EIP-712 domain of the run's receipts. */
  runRegistry: string;
  runId: Hex32;
  /** The provider's address: the expected signer of every receipt. */
  provider: string;
  /** The provider agent's base URL (may be unreachable later; the evidence stays checkable on-chain). */
  endpoint: string;
  bundleHash: Hex32;
  notebookHash: Hex32;
  /** Escrow and price, as decimal strings of token base units (bigint-safe in JSON). */
  escrow: string;
  pricePerHour: string;
  /** ISO 8601 times. */
  openedAt: string;
  endedAt?: string;
  state: 'provisioning' | 'running' | 'stopped' | 'failed' | 'settled';
}

/** One executed cell's receipt as kept in the notebook. */
export interface IAinReceiptRecord {
  runId: Hex32;
  /** The JupyterLab cell id the execution came from, when the kernel request carried it. */
  cellId?: string;
  signed: ISignedReceipt;
  digest: Hex32;
}

/** A checkpoint of a run, anchored (txHash set) or not yet. */
export interface IAinCheckpointRecord extends ICheckpoint {
  runId: Hex32;
}

/** A verification result for one cell (filled by the verification features: reproduce, checkpoint, objective). */
export interface IAinVerificationRecord {
  runId: Hex32;
  cellId?: string;
  step: number;
  level: 'reproduced' | 'objective-verified' | 'mismatch' | 'checkpoint-checked';
  /** A sentence a person can read: what was compared, and how it came out. */
  detail: string;
  /** Attestation transaction, when it was recorded on-chain. */
  txHash?: string;
  at: string;
}

/** The `metadata.ain` of a notebook. */
export interface IAinNotebookEvidence {
  version: 1;
  runs: IAinRunRecord[];
  receipts: IAinReceiptRecord[];
  checkpoints: IAinCheckpointRecord[];
  verifications: IAinVerificationRecord[];
}

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
  /** Token base units spent so far at the provider's price (decimal string). */
  spent(): string;
}

/** What changed: a run's state, a new receipt, a checkpoint queued or anchored. */
export interface IAinRunChange {
  run: IAinRun;
  kind: 'state' | 'receipt' | 'checkpoint';
  receipt?: IAinReceiptRecord;
  checkpoint?: IAinCheckpointRecord;
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

/** Where the worker reads anchored roots: the RPC endpoint (its chain id must match each run's). */
export interface IAinChainAccess {
  rpcUrl: string;
  /** Event queries start at this block. */
  deploymentBlock: number;
}

/** What the re-check found for one receipt. */
export interface IAinReceiptCheck {
  runId: Hex32;
  step: number;
  /** null when the run's provider signed it in the run's domain, else the reason. */
  signature: string | null;
  /** null when the recorded digest, the receipt fields and the `prev` chain agree, else the reason. */
  integrity: string | null;
  /** Set when the receipt is proven under an anchored on-chain root. */
  anchored?: {
    checkpoint: number;
    root: Hex32;
    receiptCount: number;
    proof: Hex32[];
    txHash?: string;
    blockNumber?: number;
  };
  /** Why it is not (yet) anchored: no checkpoint covers it, chain unreachable, or a root that contradicts it. */
  anchorNote: string;
  /** True when an anchored root covers this step but the receipt is not under it: the provider contradicted itself. */
  contradicted: boolean;
}

/** The outcome of one re-check of a notebook's evidence. */
export interface IAinRecheckResult {
  receipts: IAinReceiptCheck[];
  runs: {
    runId: Hex32;
    /** On-chain status and checkpoints, or null with `chainNote` saying why they could not be read. */
    status: string | null;
    checkpoints: ICheckpoint[];
    chainNote: string;
  }[];
  /** ISO time and duration of the check in the worker. */
  checkedAt: string;
  ms: number;
}
export const IAinWorker = new Token<IAinWorkerApi>('jupyterlab-ain:IAinWorker', 'The verification worker.');
