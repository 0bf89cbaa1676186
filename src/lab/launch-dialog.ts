/**
 * The confirmation a launch link shows once its notebook is open. A link is an invitation from someone else to
 * run their code, so the dialog says whose code it is and where it comes from (ILaunchFacts), what each choice
 * will do and that running costs tokens; Cancel is the default, and nothing has run before a choice.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import type { ILaunchFacts } from './launch-facts.js';

/** What the user chose. */
export type LaunchChoice = 'run' | 'reproduce' | 'cancel';

/** Shows the confirmation; resolves with the choice. */
export async function showLaunchDialog(facts: ILaunchFacts): Promise<LaunchChoice> {
  const buttons = [
    Dialog.cancelButton({ label: 'Cancel', caption: 'Keep the notebook open; run nothing' }),
    ...(facts.canReproduce
      ? [
          Dialog.okButton({
            label: 'Reproduce',
            caption: 'Execute it again (local kernel or another provider) and compare with its receipts',
            displayType: 'default'
          })
        ]
      : []),
    Dialog.okButton({
      label: 'Run on AI Network',
      caption: 'Pick a provider and a budget, then run it there'
    })
  ];
  const result = await showDialog({
    title: 'Run this notebook from a launch link?',
    body: new LaunchBody(facts),
    buttons,
    // Enter must not run somebody else's code: the default is Cancel.
    defaultButton: 0
  });
  if (!result.button.accept) {
    return 'cancel';
  }
  return result.button.label === 'Reproduce' ? 'reproduce' : 'run';
}

/** Says that a run link names another chain than the configured one; nothing is offered. */
export async function showWrongChain(options: {
  path: string;
  runId: string;
  linkChainId: number;
  configuredChainId: number;
  rpcUrl: string;
}): Promise<void> {
  const body = document.createElement('div');
  body.className = 'jp-AinLaunch jp-AinLaunch-wrongChain';
  const p = (text: string) =>
    body.appendChild(Object.assign(document.createElement('p'), { textContent: text }));
  p(
    `This link names run ${options.runId} on chain ${options.linkChainId}, but this JupyterLab's AI Network ` +
      `settings are for chain ${options.configuredChainId} (${options.rpcUrl}). The run cannot be checked or ` +
      'reproduced here, so nothing is offered.'
  );
  p(
    `To use the link, open it in a JupyterLab set up for chain ${options.linkChainId} (Settings › AI Network: RPC ` +
      `URL, chain id and contract addresses), or ask its author for a link on chain ${options.configuredChainId}. ` +
      `The notebook ${options.path} is open; nothing ran.`
  );
  await showDialog({
    title: `Launch link for chain ${options.linkChainId}`,
    body: new Widget({ node: body }),
    buttons: [Dialog.okButton({ label: 'OK' })]
  });
}

/** The dialog's body: facts, cautions, and what each choice does. */
class LaunchBody extends Widget {
  constructor(facts: ILaunchFacts) {
    super();
    this.addClass('jp-AinLaunch');
    const node = this.node;
    const table = document.createElement('table');
    table.className = 'jp-AinLaunch-facts';
    for (const [label, value] of facts.rows) {
      const row = table.insertRow();
      row.dataset.fact = label.toLowerCase();
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = label;
      row.appendChild(th);
      row.insertCell().textContent = value;
    }
    node.appendChild(table);
    const warning = document.createElement('div');
    warning.className = 'jp-AinLaunch-warning';
    warning.setAttribute('role', 'note');
    const lines = [
      'Only continue if you trust where this link comes from: the notebook is code written by someone else, and ' +
        'nothing has run yet.',
      '“Run on AI Network” executes it on a provider you pick next, and escrows tokens from your wallet for it ' +
        '(you confirm the budget; the provider is paid by the hour).',
      ...(facts.canReproduce
        ? [
            '“Reproduce” executes it again, on a local kernel or on another provider (which costs tokens too), and ' +
              'compares every cell with the signed receipts it carries.'
          ]
        : [])
    ];
    for (const line of lines) {
      warning.appendChild(Object.assign(document.createElement('p'), { textContent: line }));
    }
    node.appendChild(warning);
    if (facts.notes.length) {
      const list = document.createElement('ul');
      list.className = 'jp-AinLaunch-notes';
      for (const note of facts.notes) {
        list.appendChild(Object.assign(document.createElement('li'), { textContent: note }));
      }
      node.appendChild(list);
    }
  }
}
