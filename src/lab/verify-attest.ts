/**
 * "Attest on-chain": the verifier signs the Attestation a report stands for (reproduced, mismatch or objective,
 * with its own result root) with the wallet and records it in the RunRegistry, where the provider's reputation
 * reads it. The transaction goes into the report's verification records (txHash, verifier) and is shown; a wallet
 * that attested this run before, or that is the run's own provider, is told so in words.
 */
import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import type { IVerificationReport } from '../core/verification.js';
import { RunRegistryClient } from '../chain/run-registry.js';
import { attestReport } from '../chain/verify-chain.js';
import type { AinChain } from './chain.js';
import { labError } from './errors.js';
import { attestFailure, withAttestation } from './verify-model.js';
import type { IAinChain, IAinEvidence, IAinVerificationRecord } from './tokens.js';

/** Attests `report`; the transaction hash, or null when it failed (the user was told why). */
export async function attestVerification(options: {
  chain: IAinChain;
  evidence: IAinEvidence;
  path: string;
  report: IVerificationReport;
  records: IAinVerificationRecord[];
}): Promise<string | null> {
  const { chain, report } = options;
  const run = options.evidence.evidence(options.path)?.runs.find(r => r.runId === report.runId);
  let account: string | null = chain.account;
  const note = Notification.emit('Signing the attestation with the wallet…', 'in-progress', {
    autoClose: false
  });
  try {
    const session = await (chain as AinChain).session();
    if (
      run &&
      (session.config.chainId !== run.chainId ||
        !sameAddress(session.config.contracts.runRegistry, run.runRegistry))
    ) {
      throw labError(
        'LAB_SETTINGS_INCOMPLETE',
        `The run is on chain ${run.chainId} (RunRegistry ${run.runRegistry}) but the settings point at chain ` +
          `${session.config.chainId} (RunRegistry ${session.config.contracts.runRegistry}); switch the settings first.`
      );
    }
    const signer = session.requireSigner();
    account = await signer.getAddress();
    const registry = new RunRegistryClient(session);
    const tx = await attestReport(registry, report, registry.domain, signer);
    options.evidence.merge(options.path, {
      verifications: withAttestation(options.records, tx.hash, account)
    });
    Notification.update({
      id: note,
      message: `Attested (${report.attestation.verdict}) on-chain in transaction ${tx.hash}`,
      type: 'success',
      autoClose: 10_000
    });
    return tx.hash;
  } catch (e) {
    const failure = attestFailure(e, account);
    Notification.update({
      id: note,
      message: `Not attested: ${failure.message}`.slice(0, 140),
      type: failure.kind === 'other' ? 'error' : 'warning',
      autoClose: false,
      actions: [
        {
          label: 'Details',
          callback: event => {
            event.preventDefault();
            void showErrorMessage('The attestation was not recorded', failure.message);
          }
        }
      ]
    });
    return null;
  }
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
