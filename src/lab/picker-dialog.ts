/**
 * The "Run on AI Network" confirmation: providers from the on-chain registry (price, stake, reputation,
 * capabilities, reachability and latency), the environment detected for this notebook (which files, what will be
 * installed, what is refused and why), and the budget that becomes the escrow. The same dialog opens from the
 * toolbar button, the command palette and the stock kernel picker.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Contents } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';
import { detectEnvironment } from '../core/environment.js';
import type { EnvironmentReport } from '../core/environment-report.js';
import { errorMessage } from './errors.js';
import { formatTokens, providerChoice } from './display.js';
import { IAinKernelRouter, providerLabel } from './kernel-router.js';
import { notebookFiles } from './notebook-files.js';
import { IAinChain, IAinProviderListing, IAinSettings } from './tokens.js';

/** What the user chose. */
export interface IRunChoice {
  provider: IAinProviderListing;
  budget: string;
}

/** Options of showRunPicker. */
export interface IRunPickerOptions {
  chain: IAinChain;
  settings: IAinSettings;
  router: IAinKernelRouter;
  contents: Contents.IManager;
  tracker: INotebookTracker;
  path: string;
  /** The provider to select first (chosen in the kernel picker). */
  preselect?: string;
}

/** Opens the picker; resolves with the choice, or null when cancelled. */
export async function showRunPicker(options: IRunPickerOptions): Promise<IRunChoice | null> {
  const body = new RunPickerBody(options);
  const result = await showDialog<IRunChoice | null>({
    title: 'Run on AI Network',
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run', caption: 'Open the run and connect' })],
    focusNodeSelector: '.jp-AinRunPicker-budget'
  });
  return result.button.accept ? result.value : null;
}

/** The dialog's body. */
export class RunPickerBody extends Widget implements Dialog.IBodyWidget<IRunChoice | null> {
  private _providers: IAinProviderListing[] = [];
  private readonly _options: IRunPickerOptions;
  private readonly _list: HTMLElement;
  private readonly _env: HTMLElement;
  private readonly _budget: HTMLInputElement;

  constructor(options: IRunPickerOptions) {
    super();
    this._options = options;
    this.addClass('jp-AinRunPicker');
    const node = this.node;
    node.appendChild(Private.heading('Providers'));
    this._list = Private.div('jp-AinRunPicker-providers', 'Reading the provider registry…');
    node.appendChild(this._list);
    node.appendChild(Private.heading('Environment of this notebook'));
    this._env = Private.div('jp-AinRunPicker-environment', 'Detecting…');
    node.appendChild(this._env);
    node.appendChild(Private.heading('Budget'));
    const budgetRow = Private.div('jp-AinRunPicker-budgetRow', '');
    this._budget = document.createElement('input');
    this._budget.className = 'jp-AinRunPicker-budget jp-mod-styled';
    this._budget.type = 'text';
    this._budget.inputMode = 'decimal';
    this._budget.value = options.settings.values.defaultBudget;
    this._budget.setAttribute('aria-label', 'Budget in AIN tokens');
    budgetRow.appendChild(this._budget);
    budgetRow.appendChild(
      Private.span(
        'jp-AinRunPicker-hint',
        ' AIN, held in escrow on-chain; what is not used is refunded at settlement.'
      )
    );
    node.appendChild(budgetRow);
    void this.load();
  }

  getValue(): IRunChoice | null {
    const checked = this._list.querySelector<HTMLInputElement>(
      'input[name="jp-AinRunPicker-provider"]:checked'
    );
    const provider = this._providers.find(p => p.address === checked?.value);
    return provider ? { provider, budget: this._budget.value } : null;
  }

  private async load(): Promise<void> {
    await Promise.all([this.loadProviders(), this.loadEnvironment()]);
  }

  private async loadProviders(): Promise<void> {
    try {
      this._providers = await this._options.chain.providers();
      this._options.router.setProviders(this._providers);
    } catch (e) {
      this._list.textContent = `Cannot read the providers: ${errorMessage(e)}`;
      this._list.classList.add('jp-AinRunPicker-error');
      return;
    }
    this._list.textContent = '';
    if (!this._providers.length) {
      this._list.textContent = 'No provider is registered on this chain yet.';
      return;
    }
    const first =
      this._providers.find(p => p.address.toLowerCase() === this._options.preselect?.toLowerCase()) ??
      this._providers.find(p => p.reachable) ??
      this._providers[0];
    for (const p of this._providers) {
      this._list.appendChild(Private.providerRow(p, p === first));
    }
  }

  private async loadEnvironment(): Promise<void> {
    try {
      let notebook: object = {};
      this._options.tracker.forEach(panel => {
        if (panel.context.path === this._options.path && panel.model) {
          notebook = panel.model.toJSON() as object;
        }
      });
      const files = await notebookFiles(this._options.contents, this._options.path, notebook);
      this._env.textContent = '';
      this._env.appendChild(Private.environment(detectEnvironment(files)));
    } catch (e) {
      this._env.textContent = `The environment cannot be read: ${errorMessage(e)}`;
      this._env.classList.add('jp-AinRunPicker-error');
    }
  }
}

namespace Private {
  export function div(className: string, text: string): HTMLDivElement {
    const d = document.createElement('div');
    d.className = className;
    d.textContent = text;
    return d;
  }

  export function span(className: string, text: string): HTMLSpanElement {
    const s = document.createElement('span');
    s.className = className;
    s.textContent = text;
    return s;
  }

  export function heading(text: string): HTMLElement {
    const h = document.createElement('h3');
    h.className = 'jp-AinRunPicker-heading';
    h.textContent = text;
    return h;
  }

  export function providerRow(p: IAinProviderListing, checked: boolean): HTMLElement {
    const { row } = providerChoice('jp-AinRunPicker-provider', p.address, checked);
    const main = div('jp-AinRunPicker-providerMain', '');
    main.appendChild(span('jp-AinRunPicker-name', providerLabel(p)));
    main.appendChild(span('jp-AinRunPicker-price', `${formatTokens(p.pricePerHour)} AIN/h`));
    const reach = p.reachable
      ? span('jp-AinRunPicker-reach jp-mod-reachable', `reachable · ${p.latencyMs} ms`)
      : span(
          'jp-AinRunPicker-reach jp-mod-unreachable',
          p.reachable === false ? 'unreachable' : 'not probed'
        );
    main.appendChild(reach);
    row.appendChild(main);
    const r = p.reputation;
    const caps = Private.capabilities(p.capabilities);
    row.appendChild(
      div(
        'jp-AinRunPicker-details',
        `${p.address} · stake ${formatTokens(p.stake)} AIN · ${r.settled} settled, ${r.attested} attested, ` +
          `${r.mismatches} slashed${caps ? ` · ${caps}` : ''}`
      )
    );
    return row;
  }

  export function capabilities(json: string): string {
    try {
      const c = JSON.parse(json || '{}') as Record<string, unknown>;
      return Object.entries(c)
        .filter(([k]) => k !== 'name')
        .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(', ');
    } catch {
      return '';
    }
  }

  export function environment(report: EnvironmentReport): HTMLElement {
    const box = div('jp-AinRunPicker-envReport', '');
    const files = report.files.length
      ? report.files.join(', ')
      : 'no environment file (the provider’s Python 3)';
    box.appendChild(div('jp-AinRunPicker-envKind', `Detected: ${report.kind} — ${files}`));
    const install = report.install;
    const packages = install.requirements.map(r => r.requirement);
    if (install.conda) {
      packages.push(...install.conda.dependencies);
    }
    box.appendChild(
      div(
        'jp-AinRunPicker-envInstall',
        `Will install: ${packages.length ? packages.join(', ') : 'nothing beyond ipykernel'}` +
          (install.python ? ` (Python ${install.python})` : '')
      )
    );
    for (const r of report.refused) {
      box.appendChild(
        div(
          'jp-AinRunPicker-envRefused',
          `Refused: ${r.file}${r.line ? `:${r.line}` : ''} — ${r.reason} ${r.advice}`
        )
      );
    }
    for (const i of report.ignored) {
      box.appendChild(div('jp-AinRunPicker-envIgnored', `Ignored: ${i.file} — ${i.reason}`));
    }
    return box;
  }
}
