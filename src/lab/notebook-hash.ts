/**
 * "Show Notebook Hash": the content hash that bundles, runs and receipts refer to, computed in the browser by
 * the same `src/core` code the agent and the CLI run, so a user can check that `ain pack` and JupyterLab agree.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';
import { isAinError } from '../core/errors.js';
import { notebookHash } from '../core/notebook.js';
import { CommandIDs } from './command-ids.js';

export const notebookHashPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-ain:notebook-hash',
  description: 'Shows the AI Network notebook hash of the current notebook.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: activateNotebookHash
};

function activateNotebookHash(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  palette: ICommandPalette | null
): void {
  app.commands.addCommand(CommandIDs.showNotebookHash, {
    label: 'Show AI Network Notebook Hash',
    caption: 'The output-free content hash that bundles and receipts of this notebook refer to',
    isEnabled: () => tracker.currentWidget !== null,
    execute: async () => {
      const panel = tracker.currentWidget;
      if (!panel?.model) {
        return;
      }
      try {
        const hash = notebookHash(panel.model.toJSON() as object);
        const body = document.createElement('code');
        body.className = 'jp-AinNotebookHash-value';
        body.textContent = hash;
        await showDialog({
          title: `Notebook hash of ${panel.context.path}`,
          body: new Widget({ node: body }),
          buttons: [Dialog.okButton()]
        });
        return hash;
      } catch (e) {
        // A notebook the core cannot read (e.g. nbformat 3) gets the core's own explanation.
        await showErrorMessage('Cannot hash this notebook', isAinError(e) ? e.message : String(e));
      }
    }
  });
  palette?.addItem({ command: CommandIDs.showNotebookHash, category: 'AI Network' });
}
