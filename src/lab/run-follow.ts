/**
 * Following a run's progress events from its provider: each event goes into the run model and out as a change;
 * provisioning steps update the run's notification; outages, budget and anchoring problems and, above all, a
 * provider caught signing two different receipts for one step are told to the user as they happen.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import type { AgentClient } from './agent-client.js';
import { CommandIDs } from './command-ids.js';
import { errorMessage, labError } from './errors.js';
import { providerLabel } from './kernel-router.js';
import type { AinRunModel } from './run-model.js';
import type { RunProgress } from './run-progress.js';
import type { IAinRunChange } from './tokens.js';

/** How long a run may take from upload to a ready kernel (an environment build included). */
export const READY_TIMEOUT_MS = 10 * 60_000;

/** Follows a run's events until `signal` aborts; resolves once its kernel is ready, rejects when it fails to start. */
export function followRun(options: {
  run: AinRunModel;
  agent: AgentClient;
  note: RunProgress;
  signal: AbortSignal;
  emit: (change: IAinRunChange) => void;
  commands: JupyterFrontEnd['commands'];
}): Promise<void> {
  const { run, agent, note } = options;
  const label = providerLabel({ address: run.record.provider, capabilities: '' });
  let outage: string | null = null;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          labError(
            'LAB_RUN_FAILED',
            `The provider did not get the kernel ready within ${READY_TIMEOUT_MS / 60_000} minutes; see the build log.`
          )
        ),
      READY_TIMEOUT_MS
    );
    void agent.followEvents(
      run.record.runId,
      e => {
        if (outage) {
          Notification.update({
            id: outage,
            message: `The provider ${label} answers again.`,
            type: 'success',
            autoClose: 4000
          });
          outage = null;
        }
        if (run.record.state === 'provisioning' && e.type !== 'receipt') {
          note.step(e.message);
        }
        for (const change of run.apply(e)) {
          options.emit(change);
          if (change.equivocation && !run.reproduces) {
            warnEquivocation(run, change.equivocation.step, options.commands);
          }
        }
        if (e.type === 'kernel-ready') {
          clearTimeout(timer);
          resolve();
        } else if (e.type === 'error' && run.record.state === 'failed') {
          clearTimeout(timer);
          reject(labError('LAB_RUN_FAILED', `The provider could not start the run: ${e.message}`));
        } else if (
          e.type === 'budget-warning' ||
          e.type === 'budget-exhausted' ||
          e.type === 'anchor-failed'
        ) {
          Notification.warning(`${label}: ${e.message}`, { autoClose: 8000 });
        }
      },
      options.signal,
      (error, attempt) => {
        if (attempt === 2 && !outage) {
          outage = Notification.warning(
            `The provider ${label} does not answer (${errorMessage(error)}). Reconnecting; the receipts ` +
              'already anchored on-chain stay valid.',
            { autoClose: false }
          );
        }
      }
    );
  });
}

/** The live warning: the provider just signed a second, different receipt for a step; offer the challenge. */
export function warnEquivocation(
  run: AinRunModel,
  step: number,
  commands: JupyterFrontEnd['commands']
): string {
  const label = providerLabel({ address: run.record.provider, capabilities: '' });
  return Notification.warning(
    // Notifications show 140 characters: the run is the one this notebook follows live.
    `${label} signed two different receipts for step ${step}: proof of equivocation. Challenge it to slash its stake.`,
    {
      autoClose: false,
      actions: [
        {
          label: 'Challenge',
          caption: 'Submit both receipts to the RunRegistry (challengeEquivocation)',
          callback: () =>
            void commands.execute(CommandIDs.challenge, { runId: run.record.runId, path: run.path })
        }
      ]
    }
  );
}
