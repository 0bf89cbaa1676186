/**
 * The chain's part in verification: what checkpoint sampling needs (the anchored checkpoints and the client's
 * revealed secret with the hash of the block that revealed it), and the attestation of a verification report.
 */
import type { Signer } from 'ethers';
import { isAinError, makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import type { IReceiptDomain } from '../core/receipt.js';
import type { ICheckpointSampling, IVerificationReport } from '../core/verification.js';
import { IAttestation, signAttestation, Verdict } from './attestation.js';
import { RunRegistryClient, runEventsFrom } from './run-registry.js';
import { ITxResult } from './session.js';

/**
 * Reads the sampling of a run's checkpoints from the chain: its anchored checkpoints, the secret of the first
 * SamplingSecretRevealed event and the hash of that event's block (the seed is keccak256(secret || blockHash)).
 * Checkpoints anchored after the reveal's block are left out: once the seed is public, the provider could anchor
 * them knowing whether they will be sampled. Throws VERIFY_SECRET_NOT_REVEALED when the secret is not revealed.
 * Events are read from the run's `openedBlock` (its metadata.ain record) when the chain confirms it (runEventsFrom).
 */
export async function readCheckpointSampling(
  registry: RunRegistryClient,
  runId: Hex32,
  samples: number,
  openedBlock?: number
): Promise<ICheckpointSampling> {
  const from = await runEventsFrom(registry, runId, openedBlock);
  const [anchored, reveals] = await Promise.all([
    registry.checkpoints(runId, from),
    registry.samplingSecretReveals(runId, from)
  ]);
  const reveal = reveals[0];
  if (!reveal) {
    throw makeError(
      'VERIFY_SECRET_NOT_REVEALED',
      `The client has not revealed the sampling secret of run ${runId} on-chain yet, so nobody can know which ` +
        `checkpoints to re-check (${anchored.length} anchored so far). The client must reveal it after the last ` +
        'anchor: RunRegistry.revealSamplingSecret(runId, secret), which the extension sends when the run stops. ' +
        'Until then, verify at the execution or solution level.',
      { runId, anchored: anchored.length }
    );
  }
  const before = anchored.filter(c => c.blockNumber === undefined || c.blockNumber <= reveal.blockNumber);
  return {
    anchored: before,
    secret: reveal.secret,
    blockHash: reveal.blockHash,
    samples: Math.min(samples, before.length)
  };
}

const VERDICTS: Record<IVerificationReport['attestation']['verdict'], Verdict> = {
  reproduced: Verdict.Reproduced,
  mismatch: Verdict.Mismatch,
  objective: Verdict.Objective
};

/** The attestation a report stands for (RunRegistry's Attestation struct). */
export function reportAttestation(report: IVerificationReport): IAttestation {
  return {
    runId: report.runId,
    verdict: VERDICTS[report.attestation.verdict],
    receiptCount: report.attestation.receiptCount,
    resultRoot: report.attestation.resultRoot,
    score: BigInt(report.attestation.score)
  };
}

/**
 * Signs the attestation of `report` with `signer` (the verifier) under `domain` and submits it through
 * `registry` (whose session pays the gas: the verifier itself, or a relayer). Throws VERIFY_CANNOT_ATTEST for a
 * report that could not verify (outcome 'error'), for a verifier that already attested the run and for the run's
 * own provider; other contract refusals stay CHAIN_REVERTED with the contract's reason.
 */
export async function attestReport(
  registry: RunRegistryClient,
  report: IVerificationReport,
  domain: IReceiptDomain,
  signer: Signer
): Promise<ITxResult> {
  if (report.outcome === 'error') {
    throw makeError(
      'VERIFY_CANNOT_ATTEST',
      `The verification of run ${report.runId} could not conclude (${report.error ?? report.summary}); there is ` +
        'nothing to attest. Fix the cause and verify again.',
      { runId: report.runId }
    );
  }
  const verifier = await signer.getAddress();
  const signed = await signAttestation(reportAttestation(report), domain, signer);
  try {
    return await registry.attest(signed);
  } catch (e) {
    if (isAinError(e, 'CHAIN_REVERTED') && e.info.error === 'AlreadyAttested') {
      throw makeError(
        'VERIFY_CANNOT_ATTEST',
        `Verifier ${verifier} has already attested run ${report.runId}: the contract keeps one attestation per ` +
          'verifier and run, and the earlier one stands. To record this result as well, attest with another key.',
        { runId: report.runId, verifier, error: 'AlreadyAttested' }
      );
    }
    if (isAinError(e, 'CHAIN_REVERTED') && e.info.error === 'ProviderCannotAttest') {
      throw makeError(
        'VERIFY_CANNOT_ATTEST',
        `The key ${verifier} is the provider of run ${report.runId}, and a provider cannot attest its own run. ` +
          'Sign the attestation with a verifier key of your own (not the provider key).',
        { runId: report.runId, verifier, error: 'ProviderCannotAttest' }
      );
    }
    throw e;
  }
}
