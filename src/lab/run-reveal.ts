/**
 * The reveal of a run's sampling secret after its final anchor. The client committed to the secret at openRun;
 * revealing it fixes (with the hash of the reveal's block) which checkpoints a verifier samples. Revealed before
 * the provider anchored everything, it would tell the provider which checkpoints to keep honest: so the reveal
 * waits until every receipt of the stopped run is under an anchored root, and does nothing (with a notification
 * that says how to do it later) when the provider does not anchor in time.
 */
import { Notification } from '@jupyterlab/apputils';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ISignal } from '@lumino/signaling';
import type { Hex32 } from '../core/hash.js';
import { RunRegistryClient } from '../chain/run-registry.js';
import type { ChainSession } from '../chain/session.js';
import { CommandIDs } from './command-ids.js';
import { errorMessage, labError } from './errors.js';
import type { AinRunModel } from './run-model.js';
import type { IRunKey, SamplingSecretStore } from './secret-store.js';
import type { IAinRunChange, IAinRunRecord, IAinRuns } from './tokens.js';

/** Keeps a new run's secret for its reveal; warns when this browser cannot keep it. */
export function keepSecret(store: SamplingSecretStore, run: IRunKey, secret: Hex32): void {
  if (!store.put(run, secret)) {
    Notification.warning(
      'No local storage in this browser: the sampling secret cannot wait for its reveal; checkpoints of this run ' +
        'cannot be sampled.',
      { autoClose: false }
    );
  }
}

/**
 * Reveals a run's secret on-chain with the wallet's session; returns the record fields to set. From then on the
 * secret is public (the SamplingSecretRevealed event), so the notebook may carry it and the browser forgets it.
 */
export async function revealSecret(
  store: SamplingSecretStore,
  session: ChainSession,
  record: IAinRunRecord
): Promise<{ samplingSecret: Hex32; revealTx: string }> {
  const secret = store.get(record) ?? record.samplingSecret;
  if (!secret) {
    throw labError(
      'LAB_NO_SECRET',
      `This browser does not hold the sampling secret of run ${record.runId.slice(0, 10)}…: only the browser ` +
        'that opened the run keeps it (in its local storage) until it is revealed. Reveal it from there.'
    );
  }
  const tx = await new RunRegistryClient(session).revealSamplingSecret(record.runId, secret);
  store.delete(record);
  return { samplingSecret: secret, revealTx: tx.hash };
}

/** How long the final anchor may take after a stop (the agent anchors on a queue, with retries). */
export const FINAL_ANCHOR_TIMEOUT_MS = 120_000;

/** Resolves true once every receipt of `run` is anchored, false after `timeoutMs`. */
export function waitForFinalAnchor(
  run: Pick<AinRunModel, 'fullyAnchored' | 'record'>,
  changed: ISignal<IAinRuns, IAinRunChange>,
  timeoutMs = FINAL_ANCHOR_TIMEOUT_MS
): Promise<boolean> {
  if (run.fullyAnchored()) {
    return Promise.resolve(true);
  }
  return new Promise(resolve => {
    const onChange = (_: IAinRuns, change: IAinRunChange) => {
      if (change.run.record.runId === run.record.runId && run.fullyAnchored()) {
        finish(true);
      }
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      changed.disconnect(onChange);
      resolve(ok);
    };
    changed.connect(onChange);
  });
}

/** Waits for the final anchor of a stopped run, then reveals its secret; tells the user either way. */
export async function revealAfterFinalAnchor(options: {
  run: AinRunModel;
  changed: ISignal<IAinRuns, IAinRunChange>;
  reveal: () => Promise<{ txHash: string }>;
  commands: JupyterFrontEnd['commands'];
  timeoutMs?: number;
}): Promise<void> {
  const { run } = options;
  const short = `${run.record.runId.slice(0, 10)}…`;
  const later: Notification.IAction = {
    label: 'Check checkpoints',
    caption: 'Reveal the secret and sample the anchored checkpoints',
    callback: () =>
      void options.commands.execute(CommandIDs.verifyCheckpoints, {
        runId: run.record.runId,
        path: run.path
      })
  };
  if (!(await waitForFinalAnchor(run, options.changed, options.timeoutMs))) {
    // (Notifications show 140 characters.)
    Notification.warning(
      `Run ${short}: not all receipts anchored in time; the sampling secret stays private. Check checkpoints reveals it.`,
      { autoClose: false, actions: [later] }
    );
    return;
  }
  try {
    const { txHash } = await options.reveal();
    Notification.success(`Run ${short}: sampling secret revealed (tx ${txHash})`, {
      autoClose: 8000,
      actions: [later]
    });
  } catch (e) {
    Notification.error(`Run ${short}: revealing the sampling secret failed. ${errorMessage(e)}`, {
      autoClose: false,
      actions: [later]
    });
  }
}
