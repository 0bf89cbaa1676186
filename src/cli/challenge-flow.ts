/**
 * Challenging a notebook's run from the CLI (`ain challenge`, `ain verify --challenge`): find what the evidence
 * proves (two receipts for one step; a receipt an anchored root contradicts), say plainly when nothing can be
 * slashed any more (already slashed, settled after its challenge window), submit one challenge — a run is slashed
 * once — and print the slash transaction and who got paid what.
 *
 * Exit codes: 0 the provider was slashed; 1 nothing to challenge, or too late; errors throw (exit 2).
 */
import { EventLog, Wallet, formatUnits } from 'ethers';
import { findChallenges, submitChallenge, ChallengeCandidate } from '../chain/challenges.js';
import type { IChainConfig } from '../chain/config.js';
import { isAinError } from '../core/errors.js';
import type { IAinRecheckResult, IAinRunRecord } from '../core/evidence.js';
import type { Hex32 } from '../core/hash.js';
import { receiptDigest } from '../core/receipt.js';
import { RunRegistryClient, runEventsFrom } from '../chain/run-registry.js';
import { ChainSession } from '../chain/session.js';
import { unlockedWallet } from '../chain/wallet.js';
import { clientAgent } from './verify-agent.js';
import { INotebookInput, runEvidence, updateEvidence } from './verify-input.js';
import { IKeyOptions, requireWallet } from './verify-session.js';

const tokens = (v: bigint) => `${formatUnits(v, 18)} tokens`;

/**
 * Challenges run `run` of `input` if its evidence allows; prints what happened on stdout. The run's events are
 * read from its opening block when the chain confirms it (runEventsFrom), else from config.deploymentBlock.
 */
export async function challengeRun(
  input: INotebookInput,
  run: IAinRunRecord,
  recheck: IAinRecheckResult,
  config: IChainConfig,
  values: IKeyOptions & { write?: boolean },
  log: (line: string) => void
): Promise<number> {
  const candidates = findChallenges(runEvidence(input.evidence, run.runId), recheck);
  const reader = await ChainSession.connect(config);
  let fromBlock: number;
  try {
    const registry = new RunRegistryClient(reader);
    const onChain = await registry.getRun(run.runId);
    fromBlock = await runEventsFrom(registry, run.runId, run.openedBlock);
    if (onChain.status === 'slashed') {
      const logs = await registry.contract.queryFilter(
        registry.contract.filters.RunSlashed(run.runId),
        fromBlock
      );
      const slash = logs.find((l): l is EventLog => l instanceof EventLog);
      console.log(
        `challenge    run ${run.runId} is already slashed` +
          (slash ? ` (transaction ${slash.transactionHash}, by ${slash.args.challenger})` : '') +
          ': a run is slashed once; nothing more to claim.'
      );
      return 1;
    }
    if (onChain.status === 'settled') {
      console.log(
        `challenge    run ${run.runId} was settled: its challenge window is over, so its provider can no longer ` +
          'be slashed for it.'
      );
      return 1;
    }
    if (candidates.length === 0) {
      console.log(
        'challenge    nothing to challenge: no two receipts signed for one step, and no receipt that an anchored ' +
          'checkpoint contradicts.'
      );
      return 1;
    }
    if (onChain.status === 'closed') {
      const ends = onChain.closedAt + (await registry.challengeWindow());
      const now = (await reader.provider.getBlock('latest'))?.timestamp ?? 0;
      if (now > ends) {
        log(
          `the challenge window ended at ${new Date(ends * 1000).toISOString()}: the run may be settled at any ` +
            'moment, challenging before that happens'
        );
      }
    }
  } finally {
    reader.close();
  }
  const wallet = await requireWallet(values, config.chainId, 'A challenge');
  const session = await ChainSession.connect(config, unlockedWallet(wallet));
  try {
    const registry = new RunRegistryClient(session);
    let refused = 0;
    for (const candidate of Private.ordered(candidates)) {
      let anchored: Parameters<typeof submitChallenge>[2];
      if (candidate.kind === 'inclusion') {
        anchored = await Private.anchoredLeaf(run, candidate, wallet, registry, log);
        // A root that contradicts the receipts covers steps the provider anchored faithfully too: only a step
        // whose anchored leaf differs from the signed receipt is a contradiction the contract accepts.
        if (!anchored || anchored.digest === receiptDigest(candidate.signed.receipt, registry.domain)) {
          continue;
        }
      }
      console.log(`challenge    ${candidate.kind} at step ${candidate.step}: ${candidate.why}`);
      try {
        const outcome = await submitChallenge(registry, candidate, anchored, fromBlock);
        const challenger = await session.address();
        console.log(`slashed      transaction ${outcome.tx.hash} (block ${outcome.tx.blockNumber})`);
        console.log(
          `payout       provider ${run.provider} lost ${tokens(outcome.slashed)} of stake; challenger ` +
            `${challenger} got ${tokens(outcome.challengerReward)}; client refunded ${tokens(outcome.clientRefund)}`
        );
        if (values.write && candidate.kind === 'equivocation') {
          await Private.recordChallenge(input.file, candidate, outcome.tx.hash);
        }
        return 0;
      } catch (e) {
        if (isAinError(e, 'CHAIN_REVERTED')) {
          console.log(`refused      ${e.message}`);
          refused += 1;
          if (e.info.error === 'RunFinalized') {
            return 1;
          }
          continue;
        }
        throw e;
      }
    }
    if (refused > 0) {
      return 1;
    }
    console.log(
      "challenge    the contradicted receipts need the provider's anchored leaves and proofs, which its agent gives " +
        "only to the run's client: run `ain challenge` with the client's key."
    );
    return 1;
  } finally {
    session.close();
  }
}

namespace Private {
  /** Equivocations first: they need nothing but the two receipts. */
  export function ordered(candidates: ChallengeCandidate[]): ChallengeCandidate[] {
    return [...candidates].sort((a, b) =>
      a.kind === b.kind ? a.step - b.step : a.kind === 'equivocation' ? -1 : 1
    );
  }

  /** What the provider anchored for the candidate's step, from its agent (to the run's client only). */
  export async function anchoredLeaf(
    run: IAinRunRecord,
    candidate: ChallengeCandidate,
    wallet: Wallet,
    registry: RunRegistryClient,
    log: (line: string) => void
  ): Promise<{ digest: Hex32; proof: Hex32[]; checkpointIndex: number } | undefined> {
    const agent = await clientAgent(run, wallet, registry, log);
    if (!agent) {
      return undefined;
    }
    try {
      const proof = await agent.proof(run.runId, candidate.step);
      if (proof.checkpointIndex === null) {
        return undefined;
      }
      return { digest: proof.digest, proof: proof.proof, checkpointIndex: proof.checkpointIndex };
    } catch (e) {
      log(`the agent did not give the proof of step ${candidate.step}: ${(e as Error).message}`);
      return undefined;
    } finally {
      agent.dispose();
    }
  }

  /** Notes the challenge transaction on the equivocation record(s) of the notebook. */
  export async function recordChallenge(file: string, c: ChallengeCandidate, txHash: string): Promise<void> {
    await updateEvidence(file, raw => {
      const list = Array.isArray(raw.equivocations) ? (raw.equivocations as Record<string, unknown>[]) : [];
      for (const e of list) {
        if (e.runId === c.runId && e.step === c.step) {
          e.challengeTx = txHash;
        }
      }
    });
  }
}
