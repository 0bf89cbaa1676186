/**
 * A status bar item with the remaining budget of the current notebook's run: escrow minus what the run has cost
 * so far at the provider's price. Hidden when the notebook has no live run.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { CommandIDs } from './command-ids.js';
import { formatTokens } from './display.js';
import { IAinRun, IAinRuns } from './tokens.js';

/** Remaining budget in base units (never negative). */
export function remainingBudget(run: IAinRun): string {
  const left = BigInt(run.record.escrow) - BigInt(run.spent());
  return (left > 0n ? left : 0n).toString();
}

/** The status bar item. */
export const budgetStatusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-ain:budget-status',
  description: "Shows the remaining budget of the current notebook's AI Network run in the status bar.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IStatusBar, IAinRuns],
  activate: activateBudgetStatus
};

function activateBudgetStatus(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  statusBar: IStatusBar | null,
  runs: IAinRuns | null
): void {
  if (!statusBar || !runs) {
    // Without runs there is no budget to show.
    return;
  }
  const node = document.createElement('span');
  node.className = 'jp-AinBudgetStatus';
  const item = new Widget({ node });
  node.addEventListener('click', () => void app.commands.execute(CommandIDs.openSidebar));
  const activeChanged = new Signal<Widget, void>(item);
  const current = () => {
    const path = tracker.currentWidget?.context.path;
    const run = path ? runs.runForPath(path) : undefined;
    return run && (run.record.state === 'running' || run.record.state === 'provisioning') ? run : undefined;
  };
  const update = () => {
    const run = current();
    node.textContent = run ? `AIN budget ${formatTokens(remainingBudget(run))} left` : '';
    node.title = run ? `Escrow ${formatTokens(run.record.escrow)}, spent ${formatTokens(run.spent())}` : '';
    activeChanged.emit();
  };
  statusBar.registerStatusItem(budgetStatusPlugin.id, {
    item,
    align: 'left',
    rank: 900,
    isActive: () => current() !== undefined,
    activeStateChanged: activeChanged
  });
  runs.changed.connect(update);
  tracker.currentChanged.connect(update);
  // Cost accrues with time while the run is live.
  setInterval(() => {
    if (current()) {
      update();
    }
  }, 5000);
  update();
}
