/**
 * "Run on AI Network": a notebook toolbar button (declared in schema/run-picker.json) and a command palette entry
 * that open the provider picker and, once confirmed, provision the run and connect the notebook to it.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { CommandIDs } from './command-ids.js';
import { ainIcon } from './display.js';
import { IAinKernelRouter } from './kernel-router.js';
import { showRunPicker } from './picker-dialog.js';
import { IAinChain, IAinRun, IAinRuns, IAinSettings } from './tokens.js';

export const runPickerPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-ain:run-picker',
  description: 'The "Run on AI Network" toolbar button and command: pick a provider and a budget, then run.',
  autoStart: true,
  requires: [INotebookTracker, IAinRuns, IAinChain, IAinSettings, IAinKernelRouter],
  optional: [ICommandPalette],
  activate: activateRunPicker
};

function activateRunPicker(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  runs: IAinRuns,
  chain: IAinChain,
  settings: IAinSettings,
  router: IAinKernelRouter,
  palette: ICommandPalette | null
): void {
  app.commands.addCommand(CommandIDs.runNotebook, {
    label: 'Run on AI Network',
    caption: 'Run this notebook on an AI Network provider, with a signed receipt for every cell',
    icon: ainIcon,
    isEnabled: () => tracker.currentWidget !== null,
    execute: async (): Promise<IAinRun | undefined> => {
      const panel = tracker.currentWidget;
      if (!panel) {
        return undefined;
      }
      const path = panel.context.path;
      const choice = await showRunPicker({
        chain,
        settings,
        router,
        path,
        contents: app.serviceManager.contents,
        tracker
      });
      if (!choice) {
        return undefined;
      }
      // Failures are already reported by the run pipeline's notification (step, reason, what to do).
      return runs
        .provision({ path, provider: choice.provider, budget: choice.budget })
        .catch(() => undefined);
    }
  });
  palette?.addItem({ command: CommandIDs.runNotebook, category: 'AI Network' });
}
