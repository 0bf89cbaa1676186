/**
 * IAinEvidence: the evidence of every open notebook. Restored from `metadata.ain` when a notebook opens (anyone's
 * copy), extended by live receipts and checkpoints from IAinRuns, written back to `metadata.ain` as it arrives (so
 * it is saved with the notebook), and re-checked in the worker against the chain: signatures, digests, the
 * receipt chain and Merkle proofs under the roots the RunRegistry holds. Works without the run pipeline: then it
 * restores and re-checks only, reading the chain at the RPC URL of its own settings.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICellModel } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ISignal, Signal } from '@lumino/signaling';
import { CommandIDs } from './command-ids.js';
import {
  ICellBadge,
  IEvidenceIndex,
  METADATA_KEY,
  deriveCellBadge,
  indexEvidence,
  mergeEvidence,
  readEvidence,
  sourceCodeHash
} from './evidence-model.js';
import {
  IAinChain,
  IAinChainAccess,
  IAinEvidence,
  IAinNotebookEvidence,
  IAinRecheckResult,
  IAinReceiptRecord,
  IAinRunChange,
  IAinRuns,
  IAinVerificationRecord,
  IAinWorker,
  IAinWorkerApi,
  BadgeState
} from './tokens.js';

/** The evidence plugin's settings (schema/evidence.json). */
export interface IEvidenceSettings {
  recheckOnOpen: boolean;
  rpcUrl: string;
  deploymentBlock: number;
}

const DEFAULT_SETTINGS: IEvidenceSettings = {
  recheckOnOpen: true,
  rpcUrl: 'http://127.0.0.1:8545',
  deploymentBlock: 0
};

/** Keeps the evidence of the open notebooks and their badges' states. */
export class EvidenceManager implements IAinEvidence {
  constructor(options: EvidenceManager.IOptions) {
    this._worker = options.worker;
    this._runs = options.runs;
    this._chain = options.chain;
    this._runs?.changed.connect(this._onRunChange, this);
  }

  /** Emitted when a notebook's evidence, its re-check or its run changes. */
  get changed(): ISignal<IAinEvidence, { path: string; cellId?: string }> {
    return this._changed;
  }

  /** The settings; changing them re-checks every notebook. */
  get settings(): IEvidenceSettings {
    return this._settings;
  }
  set settings(value: IEvidenceSettings) {
    this._settings = value;
    for (const path of this._docs.keys()) {
      void this.recheck(path);
    }
  }

  /** Starts following a notebook: restores its evidence once its content is loaded. */
  track(panel: NotebookPanel): void {
    void panel.context.ready.then(() => {
      if (panel.isDisposed || !panel.model) {
        return;
      }
      const doc: Private.IDoc = {
        panel,
        path: panel.context.path,
        evidence: readEvidence(panel.model.getMetadata(METADATA_KEY)).evidence,
        check: undefined,
        index: undefined,
        inFlight: null,
        again: false,
        writing: false
      };
      const live = this._runs?.runForPath(doc.path);
      if (live) {
        doc.evidence = mergeEvidence(doc.evidence, {
          runs: [live.record],
          receipts: [...live.receipts],
          checkpoints: [...live.checkpoints],
          equivocations: [...live.equivocations]
        });
      }
      this._docs.set(doc.path, doc);
      panel.context.pathChanged.connect((_, path) => {
        this._docs.delete(doc.path);
        doc.path = path;
        this._docs.set(path, doc);
        this._changed.emit({ path });
      });
      panel.model.metadataChanged.connect((_, change) => {
        // Our own writes come back here too; an outside change (a reverted file, a pasted copy) replaces ours.
        if (change.key === METADATA_KEY && !doc.writing) {
          doc.evidence = readEvidence(change.newValue).evidence;
          doc.index = undefined;
          this._changed.emit({ path: doc.path });
          void this.recheck(doc.path);
        }
      });
      panel.disposed.connect(() => {
        clearTimeout(this._timers.get(doc));
        this._timers.delete(doc);
        if (this._docs.get(doc.path) === doc) {
          this._docs.delete(doc.path);
          this._changed.emit({ path: doc.path });
        }
      });
      this._changed.emit({ path: doc.path });
      if (this._settings.recheckOnOpen && doc.evidence.receipts.length > 0) {
        void this.recheck(doc.path);
      }
    });
  }

  cellState(
    path: string,
    cellId: string
  ): { state: BadgeState; receipt?: IAinReceiptRecord; detail: string } {
    const doc = this._docs.get(path);
    const cell = doc?.panel.model ? Array.from(doc.panel.model.cells).find(c => c.id === cellId) : undefined;
    if (!doc || !cell) {
      return { state: 'none', detail: 'No evidence for this cell.' };
    }
    const { state, receipt, detail } = this.cellBadge(path, cell);
    return { state, receipt, detail };
  }

  /** The badge of a cell model, with the records behind it. */
  cellBadge(
    path: string,
    cell: ICellModel,
    codeHash = sourceCodeHash(cell.sharedModel.getSource())
  ): ICellBadge {
    const doc = this._docs.get(path);
    if (!doc) {
      return { state: 'none', detail: 'No evidence for this notebook yet.', verifications: [] };
    }
    doc.index ??= indexEvidence(doc.evidence, doc.check);
    const run = this._runs?.runForPath(path);
    const executing = (cell as { executionState?: string }).executionState === 'running';
    return deriveCellBadge(doc.index as IEvidenceIndex, {
      cellId: cell.id,
      codeHash,
      running: executing && run?.record.state === 'running'
    });
  }

  addVerification(path: string, record: IAinVerificationRecord): void {
    this.merge(path, { verifications: [record] });
  }

  merge(path: string, extra: Partial<IAinNotebookEvidence>): void {
    const doc = this._docs.get(path);
    if (doc) {
      this._update(doc, extra);
    }
  }

  evidence(path: string): IAinNotebookEvidence | undefined {
    return this._docs.get(path)?.evidence;
  }

  lastCheck(path: string): IAinRecheckResult | undefined {
    return this._docs.get(path)?.check;
  }

  paths(): string[] {
    return [...this._docs.values()]
      .filter(d => d.evidence.receipts.length > 0 || d.evidence.runs.length > 0)
      .map(d => d.path);
  }

  /**
   * Re-checks in the worker. Overlapping requests collapse: one runs, and one more follows with the newest evidence.
   */
  async recheck(path: string): Promise<IAinRecheckResult | undefined> {
    const doc = this._docs.get(path);
    if (!doc) {
      return undefined;
    }
    if (doc.inFlight) {
      doc.again = true;
      return doc.inFlight;
    }
    doc.inFlight = (async () => {
      try {
        do {
          doc.again = false;
          const check = await this._worker.recheck(doc.evidence, this._chainAccess());
          // A newer pass follows when the evidence changed meanwhile: publish only the newest result.
          if (!doc.again) {
            doc.check = check;
            doc.index = undefined;
            this._changed.emit({ path: doc.path });
          }
        } while (doc.again);
        return doc.check;
      } catch (e) {
        // The badges keep their last state; the next change or the command tries again.
        console.warn(`jupyterlab-ain: re-checking the evidence of ${doc.path} failed:`, e);
        return undefined;
      } finally {
        doc.inFlight = null;
      }
    })();
    return doc.inFlight;
  }

  /** Where the worker reads anchored roots: the run pipeline's chain when present, else our own settings. */
  private _chainAccess(): IAinChainAccess | null {
    const config = this._chain?.config;
    if (config) {
      return { rpcUrl: config.rpcUrl, deploymentBlock: config.deploymentBlock };
    }
    return this._settings.rpcUrl
      ? { rpcUrl: this._settings.rpcUrl, deploymentBlock: this._settings.deploymentBlock }
      : null;
  }

  private _onRunChange(_: IAinRuns, change: IAinRunChange): void {
    const doc = this._docs.get(change.run.path);
    // A verifier's run re-executes the notebook elsewhere: its receipts are about the verifier's kernel.
    if (!doc || change.run.reproduces) {
      return;
    }
    this._update(doc, {
      runs: [change.run.record],
      receipts: change.receipt ? [change.receipt] : [],
      checkpoints: change.checkpoint ? [change.checkpoint] : [],
      equivocations: change.equivocation ? [change.equivocation] : []
    });
  }

  /** Merges records, writes them to metadata.ain (saved with the notebook) and schedules a re-check. */
  private _update(doc: Private.IDoc, extra: Partial<IAinNotebookEvidence>): void {
    doc.evidence = mergeEvidence(doc.evidence, extra);
    doc.index = undefined;
    doc.writing = true;
    try {
      doc.panel.model?.setMetadata(METADATA_KEY, JSON.parse(JSON.stringify(doc.evidence)));
    } finally {
      doc.writing = false;
    }
    this._changed.emit({ path: doc.path });
    // Receipts come one per cell: one re-check after a burst, not one per receipt.
    clearTimeout(this._timers.get(doc));
    this._timers.set(
      doc,
      setTimeout(() => void this.recheck(doc.path), 300)
    );
  }

  private readonly _changed = new Signal<IAinEvidence, { path: string; cellId?: string }>(this);
  private readonly _docs = new Map<string, Private.IDoc>();
  private readonly _timers = new Map<Private.IDoc, ReturnType<typeof setTimeout>>();
  private readonly _worker: IAinWorkerApi;
  private readonly _runs: IAinRuns | null;
  private readonly _chain: IAinChain | null;
  private _settings: IEvidenceSettings = DEFAULT_SETTINGS;
}

/** EvidenceManager's statics. */
export namespace EvidenceManager {
  /** What the manager works with; the run pipeline's pieces are optional. */
  export interface IOptions {
    worker: IAinWorkerApi;
    runs: IAinRuns | null;
    chain: IAinChain | null;
  }
}

/** Provides IAinEvidence. */
export const evidencePlugin: JupyterFrontEndPlugin<IAinEvidence> = {
  id: 'jupyterlab-ain:evidence',
  description: 'Restores, records and re-checks the AI Network evidence of notebooks (metadata.ain).',
  autoStart: true,
  provides: IAinEvidence,
  requires: [INotebookTracker, IAinWorker],
  optional: [IAinRuns, IAinChain, ISettingRegistry],
  activate: activateEvidence
};

function activateEvidence(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  worker: IAinWorkerApi,
  runs: IAinRuns | null,
  chain: IAinChain | null,
  registry: ISettingRegistry | null
): IAinEvidence {
  const manager = new EvidenceManager({ worker, runs, chain });
  tracker.forEach(panel => manager.track(panel));
  tracker.widgetAdded.connect((_, panel) => manager.track(panel));
  if (registry) {
    void registry.load(evidencePlugin.id).then(settings => {
      const read = () => {
        manager.settings = { ...DEFAULT_SETTINGS, ...(settings.composite as Partial<IEvidenceSettings>) };
      };
      read();
      settings.changed.connect(read);
    });
  }
  app.commands.addCommand(CommandIDs.recheckEvidence, {
    label: 'Re-check AI Network Evidence',
    caption:
      'Check the receipts of this notebook again: signatures, receipt chain and proofs against the chain',
    isEnabled: () => tracker.currentWidget !== null,
    execute: async args => {
      const path = (args.path as string | undefined) ?? tracker.currentWidget?.context.path;
      return path ? manager.recheck(path) : undefined;
    }
  });
  return manager;
}

namespace Private {
  export interface IDoc {
    panel: NotebookPanel;
    path: string;
    evidence: IAinNotebookEvidence;
    check: IAinRecheckResult | undefined;
    index: IEvidenceIndex | undefined;
    inFlight: Promise<IAinRecheckResult | undefined> | null;
    again: boolean;
    writing: boolean;
  }
}
