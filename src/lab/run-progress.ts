/**
 * The notification that follows one provisioning from the first step to success or failure, with the provider's
 * build log one click away.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { errorMessage } from './errors.js';
import type { AinRunModel } from './run-model.js';

/** One notification per provisioning. */
export class RunProgress {
  private readonly _id: string;
  private readonly _title: string;
  private readonly _label: string;

  constructor(title: string, label: string) {
    this._title = title;
    this._label = label;
    this._id = Notification.emit(`${title}: starting…`, 'in-progress', { autoClose: false });
  }

  step(message: string): void {
    Notification.update({
      id: this._id,
      message: `${this._title}: ${message}`,
      type: 'in-progress',
      autoClose: false
    });
  }

  done(message: string, run: AinRunModel): void {
    Notification.update({
      id: this._id,
      message,
      type: 'success',
      autoClose: 5000,
      actions: [buildLogAction(run)]
    });
  }

  fail(step: string, error: unknown, run: AinRunModel | undefined): void {
    // A new notification rather than an update: a failure in the first milliseconds would otherwise race the
    // toast of "starting…" (an update before the toast is shown does not reach it).
    Notification.dismiss(this._id);
    Notification.error(
      `${this._label} not started (notebook unchanged): ${step} failed. ${errorMessage(error)}`,
      { autoClose: false, actions: run ? [buildLogAction(run)] : [] }
    );
  }

  dismiss(): void {
    Notification.dismiss(this._id);
  }
}

/** "Show build log": everything the provider reported while preparing the run. */
export function buildLogAction(run: AinRunModel): Notification.IAction {
  return {
    label: 'Show build log',
    caption: 'Everything the provider reported while preparing this run',
    callback: event => {
      event.preventDefault();
      const pre = document.createElement('pre');
      pre.className = 'jp-AinBuildLog-text';
      pre.textContent = run.log.join('\n');
      void showDialog({
        title: `Build log of run ${run.record.runId.slice(0, 10)}…`,
        body: new Widget({ node: pre }),
        buttons: [Dialog.okButton({ label: 'Close' })]
      });
    }
  };
}
