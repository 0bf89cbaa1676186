/**
 * What a verification found, shown to a person: the results dialog (one row per cell: verdict and what was
 * compared, a side-by-side view one click away, in place, for every cell whose two sides are known) and the
 * side-by-side view itself (claimed vs reproduced outputs in the form they were compared in, the first difference marked).
 * DOM text nodes only: every value comes from a notebook or a provider someone else controls.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import type { IStepResult, IVerificationReport } from '../core/verification.js';
import { cellComparisonMode, IDiffBlock, sideBySide } from './verify-diff.js';
import { text } from './verify-dialogs.js';
import { resultRows } from './verify-model.js';

const OUTCOME_TEXT: Record<IVerificationReport['outcome'], string> = {
  verified: 'verified',
  mismatch: 'mismatch',
  error: 'could not verify'
};

const LEVEL_TEXT: Record<IVerificationReport['level'], string> = {
  execution: 'Reproduction',
  checkpoint: 'Checkpoint check',
  solution: 'Objective check'
};

/** The label of the attest button (the caller compares the clicked button's label with it). */
export const ATTEST_LABEL = 'Attest on-chain';

/**
 * Shows the results; resolves true when the user asked to attest them on-chain. `canAttest` false hides the
 * button (no wallet, an error report, or attested already: `attestedTx`).
 */
export async function showResults(options: {
  report: IVerificationReport;
  notebook: object;
  canAttest: boolean;
  attestedTx?: string;
}): Promise<boolean> {
  const { report } = options;
  const body = new Widget({ node: renderResults(report, options.notebook, options.attestedTx) });
  const result = await showDialog({
    title: `${LEVEL_TEXT[report.level]} on ${report.executor}: ${OUTCOME_TEXT[report.outcome]}`,
    body,
    buttons: [
      Dialog.cancelButton({ label: 'Close' }),
      ...(options.canAttest
        ? [
            Dialog.okButton({
              label: ATTEST_LABEL,
              caption: 'Sign an attestation of this result with the wallet and record it in the RunRegistry'
            })
          ]
        : [])
    ]
  });
  return result.button.accept && result.button.label === ATTEST_LABEL;
}

/** The results table. */
export function renderResults(
  report: IVerificationReport,
  notebook: object,
  attestedTx?: string
): HTMLElement {
  const root = text('div', 'jp-AinVerifyResults', '');
  root.dataset.outcome = report.outcome;
  root.appendChild(text('p', 'jp-AinVerifyResults-summary', report.summary));
  if (report.error) {
    root.appendChild(text('p', 'jp-AinVerifyResults-error', report.error));
  }
  if (report.checkpoint) {
    root.appendChild(text('p', 'jp-AinVerifyResults-statement', `Sampled: ${report.checkpoint.statement}`));
  }
  if (attestedTx) {
    root.appendChild(
      text('p', 'jp-AinVerifyResults-attested', `Attested on-chain in transaction ${attestedTx}`)
    );
  }
  const view = text('div', 'jp-AinVerifyResults-view', '');
  const table = document.createElement('table');
  table.className = 'jp-AinVerifyResults-table';
  const head = document.createElement('tr');
  for (const h of ['Cell', 'Code', 'Verdict', 'What was compared', '']) {
    head.appendChild(text('th', '', h));
  }
  table.appendChild(head);
  for (const row of resultRows(report, notebook)) {
    const tr = document.createElement('tr');
    tr.className = 'jp-AinVerifyResults-row';
    tr.dataset.verdict = row.verdict;
    tr.dataset.outcome = row.outcome === null ? 'none' : row.outcome ? 'pass' : 'fail';
    if (row.cellId) {
      tr.dataset.cellId = row.cellId;
    }
    tr.appendChild(text('td', 'jp-AinVerifyResults-where', row.where));
    tr.appendChild(text('td', 'jp-AinVerifyResults-code', row.code));
    tr.appendChild(text('td', 'jp-AinVerifyResults-verdict', row.verdictText));
    tr.appendChild(text('td', 'jp-AinVerifyResults-detail', row.detail));
    const actions = text('td', '', '');
    const step = report.steps.find(s => s.step === row.step);
    if (row.comparable && step) {
      const button = text('button', 'jp-AinVerifyResults-compare jp-mod-styled', 'Side by side');
      (button as HTMLButtonElement).type = 'button';
      // Inside this dialog: JupyterLab queues dialogs, so a second one would open only after this one closed.
      button.addEventListener('click', () => {
        const open = view.dataset.step === String(step.step);
        view.replaceChildren();
        delete view.dataset.step;
        if (!open) {
          view.dataset.step = String(step.step);
          view.appendChild(
            text('h3', 'jp-AinVerifyResults-viewTitle', `${row.where}: claimed vs reproduced`)
          );
          view.appendChild(renderSideBySide(step, report.executor, notebook));
          view.scrollIntoView({ block: 'nearest' });
        }
      });
      actions.appendChild(button);
    }
    tr.appendChild(actions);
    table.appendChild(tr);
  }
  root.appendChild(table);
  root.appendChild(view);
  return root;
}

/** Opens the side-by-side view of one step in a dialog of its own (from a badge's details). */
export async function showSideBySide(step: IStepResult, executor: string, notebook: object): Promise<void> {
  await showDialog({
    title: `Cell ${step.cellIndex !== undefined ? step.cellIndex + 1 : `of step ${step.step}`}: claimed vs reproduced`,
    body: new Widget({ node: renderSideBySide(step, executor, notebook) }),
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
}

/** Both sides, block by block, the first difference marked with <mark>. */
export function renderSideBySide(step: IStepResult, executor: string, notebook: object): HTMLElement {
  const view = sideBySide(
    step.claimed ?? [],
    step.reproduced ?? [],
    step.comparison,
    cellComparisonMode(notebook, step.cellIndex)
  );
  const root = text('div', 'jp-AinSideBySide', '');
  // The first difference says more than the step's one-line detail (which the results table shows anyway).
  root.appendChild(
    view.difference
      ? text('p', 'jp-AinSideBySide-difference', view.difference)
      : text('p', 'jp-AinSideBySide-verdict', step.detail)
  );
  root.appendChild(
    text(
      'p',
      'jp-AinSideBySide-form',
      view.form === 'normalized'
        ? 'Outputs as compared: normalized (streams merged; addresses, times, ids and ANSI codes masked).'
        : 'Outputs as compared: exactly as saved (ain:compare=exact), metadata and execution counts aside.'
    )
  );
  const columns = text('div', 'jp-AinSideBySide-columns', '');
  columns.appendChild(column('Claimed (signed by the provider)', 'claimed', view.claimed));
  columns.appendChild(column(`Reproduced (${executor})`, 'reproduced', view.reproduced));
  root.appendChild(columns);
  return root;
}

function column(title: string, side: string, blocks: IDiffBlock[]): HTMLElement {
  const node = text('div', `jp-AinSideBySide-column jp-AinSideBySide-${side}`, '');
  node.appendChild(text('h3', 'jp-AinSideBySide-title', title));
  if (blocks.length === 0) {
    node.appendChild(text('p', 'jp-AinSideBySide-empty', '(no output)'));
  }
  for (const b of blocks) {
    node.appendChild(text('div', 'jp-AinSideBySide-blockTitle', b.title));
    const pre = text('pre', 'jp-AinSideBySide-text', '');
    if (b.mark) {
      pre.appendChild(document.createTextNode(b.text.slice(0, b.mark.start)));
      pre.appendChild(text('mark', 'jp-AinSideBySide-mark', b.text.slice(b.mark.start, b.mark.end)));
      pre.appendChild(document.createTextNode(b.text.slice(b.mark.end)));
    } else {
      pre.textContent = b.text;
    }
    node.appendChild(pre);
  }
  return node;
}
