/**
 * The three verification levels from JupyterLab, start to end: pick the run and where to re-execute, read the
 * checkpoint sample from the chain (checkpoint level), re-execute with the core engine (verifyNotebook) under a
 * cancellable progress notification, record what was found in metadata.ain (the badges turn reproduced,
 * checkpoint-checked, objective-verified or mismatch), show the results, and attest them on-chain on request.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';
import { isAinError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import type { IVerificationReport } from '../core/verification.js';
import { verificationRecords, verifyNotebook } from '../core/verify-run.js';
import { RunRegistryClient } from '../chain/run-registry.js';
import { readCheckpointSampling } from '../chain/verify-chain.js';
import type { AinChain } from './chain.js';
import { errorMessage, labError } from './errors.js';
import { attestVerification } from './verify-attest.js';
import { chooseVerification } from './verify-dialogs.js';
import { CancellableExecutor, localExecutor, providerExecutor } from './verify-executors.js';
import { findStep, LEVEL_OF, progressText, VerifyKind } from './verify-model.js';
import { showResults, showSideBySide } from './verify-results.js';
import { AgentEvidenceSource, publishedReads } from './verify-source.js';
import type { IAinChain, IAinEvidence, IAinRunRecord, IAinRuns, IAinSettings } from './tokens.js';

/** The verify plugin's settings (schema/verify.json). */
export interface IVerifySettings {
  checkpointSamples: number;
  falsifiedFraction: number;
  cellTimeoutSeconds: number;
}

export const DEFAULT_VERIFY_SETTINGS: IVerifySettings = {
  checkpointSamples: 3,
  falsifiedFraction: 0.3,
  cellTimeoutSeconds: 600
};

const TITLE: Record<VerifyKind, string> = {
  reproduce: 'Reproducing',
  checkpoints: 'Checking checkpoints of',
  objective: 'Checking the objective of'
};

/** Runs verifications and keeps their reports (for the side-by-side view) for this session. */
export class Verifier {
  settings: IVerifySettings = DEFAULT_VERIFY_SETTINGS;

  constructor(private readonly _o: Verifier.IOptions) {}

  /** Emitted when a verification of a notebook ended (the sidebar shows the latest). */
  get changed(): ISignal<Verifier, { path: string; runId: Hex32 }> {
    return this._changed;
  }

  /**
   * The run to verify: `runId` when given, else the notebook's latest run that has receipts (as the core
   * engine picks it). Verifier runs never count: they are not in the notebook's evidence.
   */
  runOf(path: string, runId?: string): IAinRunRecord | undefined {
    const evidence = this._o.evidence.evidence(path);
    const runs = evidence?.runs ?? [];
    if (runId) {
      return runs.find(r => r.runId === runId);
    }
    const withReceipts = runs.filter(r => evidence!.receipts.some(x => x.runId === r.runId));
    return withReceipts.sort((a, b) => (a.openedAt < b.openedAt ? -1 : 1)).pop();
  }

  /** The newest report of this session for a notebook (and run). */
  lastReport(path: string, runId?: string): IVerificationReport | undefined {
    return (this._reports.get(path) ?? []).filter(r => !runId || r.runId === runId).at(-1);
  }

  /**
   * Verifies a notebook's run at the level of `kind`; resolves with the report (null when cancelled or refused).
   * Failures are shown to the user, never thrown.
   */
  async verify(kind: VerifyKind, path: string, runId?: string): Promise<IVerificationReport | null> {
    const { app, evidence, runs, chain } = this._o;
    const panel = this.panelOf(path);
    const run = panel ? this.runOf(path, runId) : undefined;
    if (!panel?.model || !run) {
      await showErrorMessage(
        'Nothing to verify',
        panel
          ? `${path} carries no run with receipts${runId ? ` with id ${runId}` : ''}: run it on AI Network first, ` +
              'or open a notebook whose metadata.ain carries a run.'
          : `Open ${path} first: verification reads the notebook as it is in the editor.`
      );
      return null;
    }
    let registry: RunRegistryClient | null = null;
    if (kind === 'checkpoints') {
      registry = await this.registry();
      if (!registry || !(await this.ensureRevealed(registry, run, path))) {
        return null;
      }
    }
    await app.serviceManager.kernelspecs.ready;
    const choice = await chooseVerification({
      kind,
      run,
      chain,
      specs: app.serviceManager.kernelspecs.specs,
      preferredKernel: String(panel.model.getMetadata('kernelspec')?.name ?? 'python3'),
      defaultBudget: this._o.settings?.values.defaultBudget ?? '1',
      defaultSamples: this.settings.checkpointSamples
    });
    if (!choice) {
      return null;
    }
    const title = `${TITLE[kind]} ${path.split('/').pop()}`;
    let executor: CancellableExecutor | null = null;
    const note = Notification.emit(`${title}: starting…`, 'in-progress', {
      autoClose: false,
      progress: 0,
      actions: [
        {
          label: 'Cancel',
          caption: 'Stop the verification and shut its kernel down',
          callback: () => executor?.cancel()
        }
      ]
    });
    const update = (message: string, progress?: number) =>
      Notification.update({ id: note, message, type: 'in-progress', autoClose: false, progress });
    let report: IVerificationReport;
    try {
      const sampling = registry
        ? await readCheckpointSampling(registry, run.runId, choice.samples, run.openedBlock)
        : undefined;
      const progress = (message: string) => update(progressText(title, 0, 0, message));
      const inner =
        choice.executor.kind === 'local'
          ? await localExecutor(app, {
              path,
              notebook: panel.model.toJSON() as object,
              kernelName: choice.executor.kernelName,
              progress
            })
          : await providerExecutor(this.requireRuns(), {
              path,
              provider: choice.executor.provider,
              budget: choice.executor.budget,
              reproduces: run.runId,
              progress
            });
      executor = new CancellableExecutor(inner);
      const source = new AgentEvidenceSource(
        () => (runs ? runs.agentFor(run) : Promise.reject(new Error('the run pipeline is not loaded'))),
        publishedReads(run)
      );
      const values = this._o.settings?.values;
      try {
        report = await verifyNotebook(
          panel.model.toJSON() as object,
          evidence.evidence(path)!,
          executor,
          source,
          {
            level: LEVEL_OF[kind],
            runId: run.runId,
            ...(values ? { rtol: values.rtol, atol: values.atol } : {}),
            ...(sampling ? { sampling } : {}),
            falsifiedFraction: this.settings.falsifiedFraction,
            cellTimeoutMs: this.settings.cellTimeoutSeconds * 1000,
            onProgress: p =>
              update(progressText(title, p.done, p.total, p.message), p.total ? p.done / p.total : undefined)
          }
        );
      } finally {
        await executor.dispose().catch(() => undefined);
      }
      if (executor.cancelled) {
        Notification.update({ id: note, message: `${title}: cancelled.`, type: 'info', autoClose: 5000 });
        return null;
      }
      if (source.problem && report.steps.some(s => s.verdict === 'unavailable')) {
        report.summary += ` (The provider's agent could not be read: ${source.problem})`;
      }
    } catch (e) {
      Notification.update({
        id: note,
        message: `${title} failed: ${errorMessage(e)}`.slice(0, 140),
        type: 'error',
        autoClose: false
      });
      return null;
    }
    const records = verificationRecords(report, new Date().toISOString());
    if (records.length) {
      evidence.merge(path, { verifications: records });
    }
    this._reports.set(path, [...(this._reports.get(path) ?? []), report]);
    this._changed.emit({ path, runId: run.runId });
    Notification.update({
      id: note,
      message: `${title}: ${report.summary}`.slice(0, 140),
      type: report.outcome === 'verified' ? 'success' : report.outcome === 'mismatch' ? 'warning' : 'error',
      autoClose: report.outcome === 'verified' ? 8000 : false,
      actions: [{ label: 'Show results', callback: () => void this.results(path, report, records) }]
    });
    await this.results(path, report, records);
    return report;
  }

  /** The side-by-side view of a cell from this session's latest report that compared it. */
  async showComparison(
    path: string,
    where: { cellId?: string; step?: number; runId?: string }
  ): Promise<void> {
    const reports = (this._reports.get(path) ?? []).filter(r => !where.runId || r.runId === where.runId);
    for (const report of [...reports].reverse()) {
      const step = findStep(report, where);
      if (step?.claimed && step.reproduced) {
        const panel = this.panelOf(path);
        return showSideBySide(step, report.executor, (panel?.model?.toJSON() as object) ?? {});
      }
    }
    await showErrorMessage(
      'No comparison to show',
      'The outputs a verification compared are kept for this session only (the notebook records the verdict, not ' +
        'the outputs). Run Reproduce again to see this cell side by side.'
    );
  }

  /** Whether showComparison has something for the cell. */
  hasComparison(path: string, where: { cellId?: string; step?: number }): boolean {
    return (this._reports.get(path) ?? []).some(r => {
      const s = findStep(r, where);
      return !!s?.claimed && !!s.reproduced;
    });
  }

  private async results(
    path: string,
    report: IVerificationReport,
    records: ReturnType<typeof verificationRecords>
  ): Promise<void> {
    const notebook = (this.panelOf(path)?.model?.toJSON() as object) ?? {};
    const attestedTx = this._attested.get(report);
    const attest = await showResults({
      report,
      notebook,
      canAttest: this._o.chain !== null && report.outcome !== 'error' && !attestedTx,
      ...(attestedTx ? { attestedTx } : {})
    });
    if (attest) {
      const tx = await attestVerification({
        chain: this._o.chain!,
        evidence: this._o.evidence,
        path,
        report,
        records
      });
      if (tx) {
        this._attested.set(report, tx);
      }
    }
  }

  /** For the checkpoint level: the secret must be on-chain; offer to reveal it when this browser holds it. */
  private async ensureRevealed(
    registry: RunRegistryClient,
    run: IAinRunRecord,
    path: string
  ): Promise<boolean> {
    try {
      await readCheckpointSampling(registry, run.runId, 1, run.openedBlock);
      return true;
    } catch (e) {
      if (!isAinError(e, 'VERIFY_SECRET_NOT_REVEALED')) {
        await showErrorMessage('Cannot read the checkpoints', errorMessage(e));
        return false;
      }
      const canReveal = this._o.runs?.hasSamplingSecret(run) ?? false;
      const answer = await showDialog({
        title: 'The sampling secret is not revealed yet',
        body:
          `Which checkpoints to re-check follows from the client's secret, revealed on-chain after the last anchor, ` +
          `and the hash of the block that reveals it. Run ${run.runId.slice(0, 10)}… has no reveal yet. ` +
          (canReveal
            ? 'This browser holds the secret (you are the run’s client): reveal it now? Do so only once the provider ' +
              'has anchored all its receipts.'
            : 'Only the run’s client can reveal it (from the browser that opened the run). Until then, reproduce ' +
              'the run or check its objective instead.'),
        buttons: [
          Dialog.cancelButton({ label: 'Close' }),
          ...(canReveal ? [Dialog.okButton({ label: 'Reveal the secret' })] : [])
        ]
      });
      if (!canReveal || !answer.button.accept) {
        return false;
      }
      try {
        const { txHash } = await this._o.runs!.revealSamplingSecret(run);
        this._o.evidence.merge(path, { runs: [run] });
        Notification.success(`Sampling secret revealed in transaction ${txHash}.`, { autoClose: 8000 });
        return true;
      } catch (err) {
        await showErrorMessage('Revealing the sampling secret failed', errorMessage(err));
        return false;
      }
    }
  }

  private async registry(): Promise<RunRegistryClient | null> {
    try {
      if (!this._o.chain) {
        throw labError('LAB_SETTINGS_INCOMPLETE', 'The chain is not configured (Settings › AI Network).');
      }
      return new RunRegistryClient(await (this._o.chain as AinChain).reader());
    } catch (e) {
      await showErrorMessage('Cannot read the chain', errorMessage(e));
      return null;
    }
  }

  private requireRuns(): IAinRuns {
    if (!this._o.runs) {
      throw labError(
        'LAB_SETTINGS_INCOMPLETE',
        'Another provider needs the run pipeline, which is not loaded.'
      );
    }
    return this._o.runs;
  }

  private panelOf(path: string): NotebookPanel | undefined {
    return this._o.tracker.find(p => p.context.path === path);
  }

  private readonly _reports = new Map<string, IVerificationReport[]>();
  private readonly _attested = new WeakMap<IVerificationReport, string>();
  private readonly _changed = new Signal<Verifier, { path: string; runId: Hex32 }>(this);
}

export namespace Verifier {
  export interface IOptions {
    app: JupyterFrontEnd;
    tracker: INotebookTracker;
    evidence: IAinEvidence;
    runs: IAinRuns | null;
    chain: IAinChain | null;
    settings: IAinSettings | null;
  }
}
