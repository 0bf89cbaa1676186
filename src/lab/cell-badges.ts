/**
 * Cell badges (STYLE.md §6): a DocumentRegistry.WidgetExtension that puts a badge beside the input of every code
 * cell, showing how far its result is verified (IAinEvidence), and opens the details on click. Like JupyterLab's
 * CellToolbarTracker, it follows the notebook's cells and disconnects everything when disposed.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Cell, CodeCell } from '@jupyterlab/cells';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import { PanelLayout, Widget } from '@lumino/widgets';
import { CommandIDs } from './command-ids.js';
import { renderBadgeDetails } from './evidence-details.js';
import { EvidenceManager } from './evidence.js';
import { ICellBadge, sourceCodeHash } from './evidence-model.js';
import { BadgeState, IAinEvidence } from './tokens.js';

type CommandRegistry = JupyterFrontEnd['commands'];

/** What each state reads as on the badge. */
export const BADGE_LABELS: Record<BadgeState, string> = {
  none: '',
  running: 'running',
  signed: 'signed',
  anchored: 'anchored',
  'checkpoint-checked': 'sampled ✓',
  reproduced: 'reproduced',
  'objective-verified': 'objective ✓',
  mismatch: 'mismatch',
  invalid: 'invalid',
  stale: 'stale'
};

/** One cell's badge. */
export class CellBadge extends Widget {
  constructor(options: CellBadge.IOptions) {
    super({ node: document.createElement('button') });
    this.addClass('jp-AinCellBadge');
    this._options = options;
    const node = this.node as HTMLButtonElement;
    node.type = 'button';
    node.addEventListener('click', this);
    options.cell.model.contentChanged.connect(this._onSourceChanged, this);
    options.cell.model.stateChanged.connect(this.refresh, this);
    this.refresh();
  }

  /** The badge as last derived. */
  get badge(): ICellBadge | null {
    return this._badge;
  }

  /** Derives the state again (the evidence, the check or the cell changed). */
  refresh(): void {
    if (this.isDisposed) {
      return;
    }
    const { cell, manager, path } = this._options;
    const source = cell.model.sharedModel.getSource();
    if (source !== this._source) {
      // Hash only when the source changed: a re-check refreshes every badge of the notebook at once.
      this._source = source;
      this._codeHash = sourceCodeHash(source);
    }
    const badge = manager.cellBadge(path(), cell.model, this._codeHash);
    this._badge = badge;
    const node = this.node;
    if (node.dataset.state !== badge.state) {
      if (node.dataset.state) {
        this.removeClass(`jp-AinCellBadge-${node.dataset.state}`);
      }
      this.addClass(`jp-AinCellBadge-${badge.state}`);
      node.dataset.state = badge.state;
    }
    const pending = badge.state === 'none' && badge.receipt !== undefined;
    // Write only what changed: any DOM write makes the browser lay out the whole notebook again, and a re-check
    // of a long notebook mostly confirms what the badges already say.
    const text = pending ? 'checking' : BADGE_LABELS[badge.state];
    if (node.textContent !== text) {
      node.textContent = text;
    }
    if (node.title !== badge.detail) {
      node.title = badge.detail;
      node.setAttribute('aria-label', `AI Network evidence: ${badge.state}. ${badge.detail}`);
    }
    this.setHidden(badge.state === 'none' && !pending);
  }

  handleEvent(event: Event): void {
    if (event.type === 'click') {
      event.stopPropagation();
      void this.showDetails();
    }
  }

  /**
   * The details dialog: provider, receipt fields, Merkle proof, transaction and block, what was compared; with
   * the side-by-side view of a mismatch and a challenge of the run when the evidence supports one.
   */
  async showDetails(): Promise<void> {
    const badge = this._badge;
    if (!badge) {
      return;
    }
    const { commands } = this._options;
    const args = {
      path: this._options.path(),
      cellId: this._options.cell.model.id,
      ...(badge.receipt ? { runId: badge.receipt.runId, step: badge.receipt.signed.receipt.step } : {})
    };
    const offer = (id: string) => !!commands && commands.hasCommand(id) && commands.isEnabled(id, args);
    const actions: [string, string][] = [];
    if (badge.state === 'mismatch' && offer(CommandIDs.showComparison)) {
      actions.push([CellBadge.SIDE_BY_SIDE, CommandIDs.showComparison]);
    }
    if (badge.receipt && offer(CommandIDs.challenge)) {
      actions.push([CellBadge.CHALLENGE, CommandIDs.challenge]);
    }
    const result = await showDialog({
      title: `AI Network evidence: ${BADGE_LABELS[badge.state] || 'none'}`,
      body: new Widget({ node: renderBadgeDetails(badge) }),
      buttons: [
        ...actions.map(([label]) => Dialog.createButton({ label, displayType: 'default', accept: true })),
        Dialog.okButton({ label: 'Close' })
      ]
    });
    const chosen = actions.find(([label]) => label === result.button.label);
    if (chosen && commands) {
      await commands.execute(chosen[1], args);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.node.removeEventListener('click', this);
    this._options.cell.model.contentChanged.disconnect(this._onSourceChanged, this);
    this._options.cell.model.stateChanged.disconnect(this.refresh, this);
    clearTimeout(this._timer);
    super.dispose();
  }

  private _onSourceChanged(): void {
    // Typing changes the source per keystroke; hash once the typing pauses.
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this.refresh(), 150);
  }

  private readonly _options: CellBadge.IOptions;
  private _badge: ICellBadge | null = null;
  private _source: string | null = null;
  private _codeHash = '';
  private _timer: ReturnType<typeof setTimeout> | undefined;
}

/** CellBadge's statics. */
export namespace CellBadge {
  export interface IOptions {
    cell: CodeCell;
    manager: EvidenceManager;
    /** The notebook's current path (it changes on rename). */
    path: () => string;
    /** The app's commands: the details dialog offers the side-by-side view and the challenge through them. */
    commands?: CommandRegistry;
  }

  /** Labels of the details dialog's action buttons. */
  export const SIDE_BY_SIDE = 'Side by side';
  export const CHALLENGE = 'Challenge';
}

/** Follows one notebook's cells and keeps a badge on each code cell. */
export class CellBadgeTracker implements IDisposable {
  constructor(panel: NotebookPanel, manager: EvidenceManager, commands?: CommandRegistry) {
    this._panel = panel;
    this._manager = manager;
    this._commands = commands;
    manager.changed.connect(this._onEvidenceChanged, this);
    void panel.context.ready.then(() => {
      if (this._isDisposed) {
        return;
      }
      panel.content.model?.cells.changed.connect(this._sync, this);
      this._sync();
    });
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._manager.changed.disconnect(this._onEvidenceChanged, this);
    cancelAnimationFrame(this._frame);
    this._dirty.clear();
    this._panel.content.model?.cells.changed.disconnect(this._sync, this);
    for (const badge of this._badges.values()) {
      badge.dispose();
    }
    this._badges.clear();
  }

  private _sync(): void {
    // Cell widgets follow model changes synchronously, but their input areas exist only once `ready` resolves.
    const live = new Set<Cell>();
    for (const cell of this._panel.content.widgets) {
      if (cell.model.type !== 'code') {
        continue;
      }
      live.add(cell);
      if (!this._badges.has(cell) && !this._pending.has(cell)) {
        this._pending.add(cell);
        void cell.ready.then(() => {
          this._pending.delete(cell);
          if (!this._isDisposed && !cell.isDisposed && cell.inputArea && !this._badges.has(cell)) {
            const badge = new CellBadge({
              cell: cell as CodeCell,
              manager: this._manager,
              path: () => this._panel.context.path,
              commands: this._commands
            });
            (cell.inputArea.layout as PanelLayout).addWidget(badge);
            this._badges.set(cell, badge);
          }
        });
      }
    }
    for (const [cell, badge] of this._badges) {
      if (!live.has(cell) || cell.isDisposed) {
        badge.dispose();
        this._badges.delete(cell);
      }
    }
  }

  private _onEvidenceChanged(_: IAinEvidence, change: { path: string; cellId?: string }): void {
    if (change.path !== this._panel.context.path) {
      return;
    }
    for (const [cell, badge] of this._badges) {
      if (change.cellId === undefined || change.cellId === cell.model.id) {
        this._dirty.add(badge);
      }
    }
    this._flush();
  }

  /**
   * Refreshes the badges that changed, a slice per animation frame: a re-check of a 1,000-cell notebook must not
   * turn into one long task on the UI thread.
   */
  private _flush(): void {
    if (this._frame !== 0 || this._isDisposed) {
      return;
    }
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      let n = 0;
      for (const badge of this._dirty) {
        this._dirty.delete(badge);
        badge.refresh();
        if (++n === CellBadgeTracker.SLICE) {
          break;
        }
      }
      if (this._dirty.size > 0) {
        this._flush();
      }
    });
  }

  /** Badges refreshed per animation frame. */
  static SLICE = 100;

  private readonly _dirty = new Set<CellBadge>();
  private _frame = 0;
  private readonly _panel: NotebookPanel;
  private readonly _manager: EvidenceManager;
  private readonly _commands: CommandRegistry | undefined;
  private readonly _badges = new Map<Cell, CellBadge>();
  private readonly _pending = new Set<Cell>();
  private _isDisposed = false;
}

/** Adds a CellBadgeTracker to every notebook panel. */
export class CellBadgeExtension implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel> {
  constructor(manager: EvidenceManager, commands?: CommandRegistry) {
    this._manager = manager;
    this._commands = commands;
  }

  createNew(panel: NotebookPanel): IDisposable {
    return new CellBadgeTracker(panel, this._manager, this._commands);
  }

  private readonly _manager: EvidenceManager;
  private readonly _commands: CommandRegistry | undefined;
}

/** The badges plugin. */
export const cellBadgesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-ain:cell-badges',
  description: 'Shows on every code cell how far its result is verified, with the evidence one click away.',
  autoStart: true,
  requires: [IAinEvidence],
  activate: activateCellBadges
};

function activateCellBadges(app: JupyterFrontEnd, evidence: IAinEvidence): void {
  if (!(evidence instanceof EvidenceManager)) {
    // The badges read per-cell records that only this extension's manager keeps.
    console.warn("jupyterlab-ain: cell badges need the extension's own IAinEvidence; badges are off.");
    return;
  }
  app.docRegistry.addWidgetExtension('Notebook', new CellBadgeExtension(evidence, app.commands));
  app.commands.addCommand(CommandIDs.showCellEvidence, {
    label: 'Show AI Network Evidence of the Cell',
    caption: 'Provider, receipt, Merkle proof, transaction and block, and what was compared',
    execute: async () => {
      const node = document.querySelector('.jp-Notebook .jp-Cell.jp-mod-active .jp-AinCellBadge');
      (node as HTMLElement | null)?.click();
    }
  });
}
