/**
 * Typed client of contracts/RunRegistry.sol: open runs, anchor checkpoints, close, settle, attest, challenge, and
 * read runs and their checkpoint history from events.
 */
import { AbiCoder, Contract, ContractTransactionResponse, EventLog, getAddress, keccak256 } from 'ethers';
import { assert } from '../core/errors.js';
import { Hex32 } from '../core/hash.js';
import { ICheckpoint } from '../core/merkle.js';
import { IReceiptDomain, ISignedReceipt } from '../core/receipt.js';
import { RUN_REGISTRY_ABI } from './abi.js';
import { ISignedAttestation } from './attestation.js';
import { IChainConfig } from './config.js';
import { ChainSession, ITxResult } from './session.js';
import { TokenClient } from './token.js';

/** Life cycle of a run (the contract's Status enum). */
export type RunStatus = 'none' | 'open' | 'closed' | 'settled' | 'slashed';
const STATUSES: RunStatus[] = ['none', 'open', 'closed', 'settled', 'slashed'];

/** A run as stored on-chain. Times are seconds since the Unix epoch (block time). */
export interface IRunRecord {
  runId: Hex32;
  client: string;
  provider: string;
  status: RunStatus;
  openedAt: number;
  closedAt: number;
  lastAnchorAt: number;
  receiptCount: number;
  checkpointCount: number;
  escrow: bigint;
  pricePerHour: bigint;
  bundleHash: Hex32;
  secretCommitment: Hex32;
  latestRoot: Hex32;
  checkpointsAcc: Hex32;
}

/** What openRun needs. */
export interface IOpenRunParams {
  provider: string;
  bundleHash: Hex32;
  /** Any number not used before by this client with this provider and bundle. */
  nonce: bigint;
  /** The client's 32-byte sampling secret; only its commitment goes on-chain. */
  samplingSecret: Hex32;
  escrow: bigint;
  /** The price the client agreed to (the provider's current price). */
  pricePerHour: bigint;
}

/** Evidence for challengeInclusion (see RunRegistry.InclusionEvidence). */
export interface IInclusionEvidence {
  anchoredDigest: Hex32;
  proof: Hex32[];
  accBefore: Hex32;
  history: { root: Hex32; receiptCount: number }[];
}

const abi = AbiCoder.defaultAbiCoder();

/** The run id the contract derives: keccak256(abi.encode(chainId, runRegistry, client, provider, nonce, bundle)). */
export function computeRunId(
  config: IChainConfig,
  client: string,
  provider: string,
  nonce: bigint,
  bundleHash: Hex32
): Hex32 {
  return keccak256(
    abi.encode(
      ['uint256', 'address', 'address', 'address', 'uint256', 'bytes32'],
      [config.chainId, config.contracts.runRegistry, client, provider, nonce, bundleHash]
    )
  );
}

/** The commitment to a sampling secret stored by openRun: keccak256(abi.encode(bytes32 secret)). */
export function samplingSecretCommitment(secret: Hex32): Hex32 {
  return keccak256(abi.encode(['bytes32'], [secret]));
}

/** The next value of a run's checkpoint history hash (RunRegistry.checkpointsAcc); it starts at the run id. */
export function nextCheckpointsAcc(acc: Hex32, root: Hex32, receiptCount: number): Hex32 {
  return keccak256(abi.encode(['bytes32', 'bytes32', 'uint32'], [acc, root, receiptCount]));
}

/**
 * The first block to read run `runId`'s events from (its checkpoints, sampling-secret reveals, slash): the run's
 * recorded opening block when the chain confirms it, else the configured deploymentBlock. No event of a run is
 * older than its RunOpened event, so a confirmed opening block loses nothing and spares a scan from the
 * deployment block (slow, and refused by hosted endpoints over long ranges). Confirmed means: the run's RunOpened
 * event is in exactly that block (one eth_getLogs over that block alone). A block the chain does not confirm (an
 * edited notebook, another chain, a query the endpoint refuses) is ignored, never trusted: a later block could
 * hide a checkpoint or the first reveal, on which the checkpoint sample depends.
 */
export async function runEventsFrom(
  registry: RunRegistryClient,
  runId: Hex32,
  openedBlock: number | undefined
): Promise<number> {
  const fallback = registry.session.config.deploymentBlock;
  if (openedBlock === undefined || !Number.isSafeInteger(openedBlock) || openedBlock < 0) {
    return fallback;
  }
  try {
    const logs = await registry.contract.queryFilter(
      registry.contract.filters.RunOpened(runId),
      openedBlock,
      openedBlock
    );
    return logs.some(l => l.blockNumber === openedBlock) ? openedBlock : fallback;
  } catch {
    return fallback;
  }
}

/** Typed access to the RunRegistry of the configured chain. */
export class RunRegistryClient {
  readonly session: ChainSession;
  readonly contract: Contract;
  readonly token: TokenClient;

  constructor(session: ChainSession) {
    this.session = session;
    this.contract = new Contract(
      session.config.contracts.runRegistry,
      RUN_REGISTRY_ABI,
      session.signer ?? session.provider
    );
    this.token = new TokenClient(session);
  }

  /** The EIP-712 domain receipts of this chain and contract are signed under. */
  get domain(): IReceiptDomain {
    return {
      chainId: this.session.config.chainId,
      verifyingContract: this.session.config.contracts.runRegistry
    };
  }

  /** Opens a run, approving the escrow first; returns the run id with the transaction. */
  async openRun(p: IOpenRunParams): Promise<ITxResult & { runId: Hex32 }> {
    const client = await this.session.address();
    const runId = computeRunId(this.session.config, client, getAddress(p.provider), p.nonce, p.bundleHash);
    await this.token.ensureAllowance(this.session.config.contracts.runRegistry, p.escrow);
    const tx = await this.session.send('Opening the run', () =>
      this.fn('openRun')(
        p.provider,
        p.bundleHash,
        p.nonce,
        samplingSecretCommitment(p.samplingSecret),
        p.escrow,
        p.pricePerHour
      )
    );
    return { ...tx, runId };
  }

  /** Anchors a checkpoint (provider only). */
  async anchor(runId: Hex32, checkpoint: ICheckpoint): Promise<ITxResult> {
    return this.session.send(`Anchoring checkpoint ${checkpoint.index}`, () =>
      this.fn('anchor')(runId, checkpoint.index, checkpoint.root, checkpoint.receiptCount)
    );
  }

  /** Closes a run (client or provider): no more checkpoints; the challenge window starts. */
  async closeRun(runId: Hex32): Promise<ITxResult> {
    return this.session.send('Closing the run', () => this.fn('closeRun')(runId));
  }

  /** Pays a closed run out after its challenge window (anyone). */
  async settle(runId: Hex32): Promise<ITxResult> {
    return this.session.send('Settling the run', () => this.fn('settle')(runId));
  }

  /** Publishes the sampling secret committed to at openRun. */
  async revealSamplingSecret(runId: Hex32, secret: Hex32): Promise<ITxResult> {
    return this.session.send('Revealing the sampling secret', () =>
      this.fn('revealSamplingSecret')(runId, secret)
    );
  }

  /** Submits a verifier's signed attestation. */
  async attest(signed: ISignedAttestation): Promise<ITxResult> {
    return this.session.send('Submitting the attestation', () =>
      this.fn('attest')(signed.attestation, signed.signature)
    );
  }

  /** Proves that the provider signed two different receipts for one step. */
  async challengeEquivocation(a: ISignedReceipt, b: ISignedReceipt): Promise<ITxResult> {
    return this.session.send('Challenging an equivocation', () =>
      this.fn('challengeEquivocation')(a.receipt, a.signature, b.receipt, b.signature)
    );
  }

  /** Proves that an anchored checkpoint contradicts a signed receipt. */
  async challengeInclusion(signed: ISignedReceipt, evidence: IInclusionEvidence): Promise<ITxResult> {
    return this.session.send('Challenging a checkpoint', () =>
      this.fn('challengeInclusion')(signed.receipt, signed.signature, evidence)
    );
  }

  /**
   * Builds the evidence that checkpoint `index` of a run holds `anchoredDigest` (with its Merkle `proof`), from
   * the run's CheckpointAnchored events.
   */
  async inclusionEvidence(
    runId: Hex32,
    index: number,
    anchoredDigest: Hex32,
    proof: Hex32[],
    fromBlock?: number
  ): Promise<IInclusionEvidence> {
    const checkpoints = await this.checkpoints(runId, fromBlock);
    assert(
      index >= 0 && index < checkpoints.length,
      'CHAIN_REVERTED',
      `Run ${runId} has ${checkpoints.length} anchored checkpoint(s); there is no checkpoint ${index}.`,
      { index }
    );
    const accBefore = checkpoints
      .slice(0, index)
      .reduce((acc, c) => nextCheckpointsAcc(acc, c.root, c.receiptCount), runId);
    const history = checkpoints.slice(index).map(c => ({ root: c.root, receiptCount: c.receiptCount }));
    return { anchoredDigest, proof, accBefore, history };
  }

  /**
   * The run's anchored checkpoints, in order, from its events read from `fromBlock` (default: the configured
   * deploymentBlock; runEventsFrom gives the run's own opening block).
   */
  async checkpoints(runId: Hex32, fromBlock = this.session.config.deploymentBlock): Promise<ICheckpoint[]> {
    const logs = await this.contract.queryFilter(this.contract.filters.CheckpointAnchored(runId), fromBlock);
    return logs
      .filter((l): l is EventLog => l instanceof EventLog)
      .map(l => ({
        index: Number(l.args.index),
        root: l.args.root as Hex32,
        receiptCount: Number(l.args.receiptCount),
        txHash: l.transactionHash,
        blockNumber: l.blockNumber
      }))
      .sort((a, b) => a.index - b.index);
  }

  /**
   * The run's SamplingSecretRevealed events, in chain order (the contract lets the secret be revealed more than
   * once; only the first reveal fixes the sample, since a later one could be timed for a favourable block hash),
   * read from `fromBlock` as in `checkpoints`.
   */
  async samplingSecretReveals(
    runId: Hex32,
    fromBlock = this.session.config.deploymentBlock
  ): Promise<{ secret: Hex32; blockHash: Hex32; blockNumber: number; txHash: string }[]> {
    const logs = await this.contract.queryFilter(
      this.contract.filters.SamplingSecretRevealed(runId),
      fromBlock
    );
    return logs
      .filter((l): l is EventLog => l instanceof EventLog)
      .sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)
      .map(l => ({
        secret: l.args.secret as Hex32,
        blockHash: l.blockHash as Hex32,
        blockNumber: l.blockNumber,
        txHash: l.transactionHash
      }));
  }

  /** The stored run (status 'none' when it does not exist). */
  async getRun(runId: Hex32): Promise<IRunRecord> {
    const r = await this.session.call('Reading the run', () => this.contract.getRun(runId));
    return {
      runId,
      client: r.client,
      provider: r.provider,
      status: STATUSES[Number(r.status)],
      openedAt: Number(r.openedAt),
      closedAt: Number(r.closedAt),
      lastAnchorAt: Number(r.lastAnchorAt),
      receiptCount: Number(r.receiptCount),
      checkpointCount: Number(r.checkpointCount),
      escrow: r.escrow,
      pricePerHour: r.pricePerHour,
      bundleHash: r.bundleHash,
      secretCommitment: r.secretCommitment,
      latestRoot: r.latestRoot,
      checkpointsAcc: r.checkpointsAcc
    };
  }

  /** Seconds between closeRun and the earliest settle. */
  async challengeWindow(): Promise<number> {
    return Number(
      await this.session.call('Reading the challenge window', () => this.contract.challengeWindow())
    );
  }

  private fn(name: string): (...args: unknown[]) => Promise<ContractTransactionResponse> {
    return this.contract.getFunction(name) as unknown as (
      ...args: unknown[]
    ) => Promise<ContractTransactionResponse>;
  }
}
