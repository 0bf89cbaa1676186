/**
 * "Challenge" from JupyterLab: submits what a notebook's evidence proves against its provider — two receipts the
 * provider signed for one step (equivocation), or a signed receipt that an anchored checkpoint contradicts — to the
 * RunRegistry with the wallet, which slashes the provider's stake (half to the challenger). The chain layer finds
 * and submits the challenge (src/chain/challenges.ts, shared with `ain challenge`); this adds the confirmation,
 * the provider's proof of what it anchored (an inclusion challenge needs it; the agent gives it to the run's
 * client), the slash transaction in a notification, and the record in metadata.ain.
 */
import { Dialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { RunRegistryClient, runEventsFrom } from '../chain/run-registry.js';
import { ChallengeCandidate, submitChallenge } from '../chain/challenges.js';
import type { Hex32 } from '../core/hash.js';
import type { AinChain } from './chain.js';
import { errorMessage, labError } from './errors.js';
import { formatTokens } from './display.js';
import { openChallenges } from './verify-model.js';
import type { IAinChain, IAinEvidence, IAinRuns } from './tokens.js';

/** Asks, then submits the first open challenge of the notebook's run; the transaction hash, or null. */
export async function challengeRun(options: {
  path: string;
  runId?: Hex32;
  evidence: IAinEvidence;
  chain: IAinChain | null;
  runs: IAinRuns | null;
}): Promise<string | null> {
  const { path, evidence } = options;
  // The latest re-check says which receipts an anchored root contradicts and whether the run is slashed already.
  const check = (await evidence.recheck(path)) ?? evidence.lastCheck(path);
  const candidates = openChallenges(evidence.evidence(path), check, options.runId);
  if (candidates.length === 0) {
    await showErrorMessage(
      'Nothing to challenge',
      'The evidence of this notebook proves no misbehaviour still open to a challenge: no two receipts for one ' +
        'step and no receipt contradicted by an anchored checkpoint (or the run is slashed already).'
    );
    return null;
  }
  if (!options.chain) {
    await showErrorMessage('Cannot challenge', 'The chain is not configured (Settings › AI Network).');
    return null;
  }
  // One challenge slashes the run: a second one would revert, so the strongest (an equivocation) goes first.
  const candidate = candidates[0];
  const answer = await showDialog({
    title: `Challenge run ${candidate.runId.slice(0, 10)}…`,
    body:
      `${describe(candidate)} Submitting it proves this on-chain: the RunRegistry slashes the provider's stake, ` +
      'refunds the client and pays you, the challenger, half of the slash. The wallet pays the gas.',
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Challenge' })]
  });
  if (!answer.button.accept) {
    return null;
  }
  const note = Notification.emit('Submitting the challenge…', 'in-progress', { autoClose: false });
  try {
    const session = await (options.chain as AinChain).session();
    const anchored = candidate.kind === 'inclusion' ? await anchoredLeaf(options, candidate) : undefined;
    const registry = new RunRegistryClient(session);
    // The run's checkpoint history (inclusion challenge) is read from its opening block when the chain confirms it.
    const record = evidence.evidence(path)?.runs.find(r => r.runId === candidate.runId);
    const from = anchored ? await runEventsFrom(registry, candidate.runId, record?.openedBlock) : undefined;
    const outcome = await submitChallenge(registry, candidate, anchored, from);
    const tx = outcome.tx.hash;
    if (candidate.kind === 'equivocation') {
      const { runId, step, a, b } = candidate;
      evidence.merge(path, { equivocations: [{ runId, step, a, b, challengeTx: tx }] });
    } else {
      evidence.merge(path, {
        verifications: [
          {
            runId: candidate.runId,
            step: candidate.step,
            level: 'mismatch',
            detail: `An anchored checkpoint contradicts this signed receipt (${candidate.why}); proven on-chain, the provider was slashed.`,
            txHash: tx,
            at: new Date().toISOString()
          }
        ]
      });
    }
    Notification.update({
      id: note,
      message: `Provider slashed ${formatTokens(outcome.slashed.toString())} AIN (you get ${formatTokens(
        outcome.challengerReward.toString()
      )}) in transaction ${tx}`,
      type: 'success',
      autoClose: false
    });
    void evidence.recheck(path);
    return tx;
  } catch (e) {
    Notification.update({
      id: note,
      message: `Challenge not accepted: ${errorMessage(e)}`.slice(0, 140),
      type: 'error',
      autoClose: false
    });
    return null;
  }
}

/** The candidate in one sentence. */
export function describe(candidate: ChallengeCandidate): string {
  return candidate.kind === 'equivocation'
    ? `The provider signed two different receipts for step ${candidate.step}.`
    : `An anchored checkpoint contradicts the signed receipt of step ${candidate.step}: ${candidate.why}.`;
}

/** What the provider anchored at the candidate's step, from its agent (to the run's client only). */
async function anchoredLeaf(
  options: { path: string; evidence: IAinEvidence; runs: IAinRuns | null },
  candidate: ChallengeCandidate
): Promise<{ digest: Hex32; proof: Hex32[]; checkpointIndex: number }> {
  const run = options.evidence.evidence(options.path)?.runs.find(r => r.runId === candidate.runId);
  if (!run || !options.runs) {
    throw labError(
      'LAB_CHALLENGE_IMPOSSIBLE',
      'An inclusion challenge needs the leaf the provider anchored at this step, which its agent gives only to ' +
        "the run's client; this JupyterLab cannot reach it."
    );
  }
  const agent = await options.runs.agentFor(run);
  const proof = await agent.proof(candidate.runId, candidate.step);
  if (proof.checkpointIndex === null || proof.checkpointIndex === undefined) {
    throw labError(
      'LAB_CHALLENGE_IMPOSSIBLE',
      `The provider has anchored no checkpoint covering step ${candidate.step} yet; try again after its anchor.`
    );
  }
  return { digest: proof.digest, proof: proof.proof, checkpointIndex: proof.checkpointIndex };
}
