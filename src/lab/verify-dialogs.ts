/**
 * The dialog that starts a verification: where to re-execute ("Local kernel": a fresh kernel of the local Jupyter
 * server; "Another provider": any registered provider but the run's own, paid from a budget like any run) and, for
 * the checkpoint level, how many anchored checkpoints to sample. DOM text nodes only.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { KernelSpec } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';
import { errorMessage } from './errors.js';
import { formatTokens, providerChoice } from './display.js';
import { providerLabel } from './kernel-router.js';
import type { ExecutorChoice } from './verify-executors.js';
import { otherProviders, VerifyKind } from './verify-model.js';
import type { IAinChain, IAinProviderListing, IAinRunRecord } from './tokens.js';

/** What the user chose. */
export interface IVerifyChoice {
  executor: ExecutorChoice;
  /** Checkpoints to sample (checkpoint level). */
  samples: number;
}

export interface IVerifyDialogOptions {
  kind: VerifyKind;
  run: IAinRunRecord;
  chain: IAinChain | null;
  specs: KernelSpec.ISpecModels | null;
  /** The notebook's kernel name, chosen first among the local kernels. */
  preferredKernel: string;
  defaultBudget: string;
  defaultSamples: number;
}

const TITLES: Record<VerifyKind, string> = {
  reproduce: 'Reproduce',
  checkpoints: 'Check checkpoints',
  objective: 'Check objective'
};

const EXPLAIN: Record<VerifyKind, string> = {
  reproduce:
    'Re-executes every step of the run in a fresh kernel and compares each cell’s outputs with the ones the ' +
    'provider signed (exact, normalized or within tolerance; per-cell ain: tags apply).',
  checkpoints:
    'Re-executes the run up to a random sample of its anchored checkpoints (chosen from the client’s revealed ' +
    'secret and a later block hash) and compares the sampled steps.',
  objective:
    'Runs only the ain:objective cells against the artifacts the provider committed to (downloaded by hash and ' +
    'checked) and compares the metric with the claimed one.'
};

/** Opens the dialog; the choice, or null when cancelled. */
export async function chooseVerification(options: IVerifyDialogOptions): Promise<IVerifyChoice | null> {
  const body = new VerifyChoiceBody(options);
  const result = await showDialog<IVerifyChoice | null>({
    title: `${TITLES[options.kind]}: run ${options.run.runId.slice(0, 10)}…`,
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: TITLES[options.kind] })]
  });
  return result.button.accept ? result.value : null;
}

/** The local kernels of the server (never the AI Network specs the extension adds beside them). */
export function localKernels(specs: KernelSpec.ISpecModels | null): KernelSpec.ISpecModel[] {
  return Object.values(specs?.kernelspecs ?? {}).filter(
    (s): s is KernelSpec.ISpecModel => !!s && (s.metadata as { ain?: unknown } | undefined)?.ain === undefined
  );
}

/** The dialog's body. */
export class VerifyChoiceBody extends Widget implements Dialog.IBodyWidget<IVerifyChoice | null> {
  constructor(private readonly _o: IVerifyDialogOptions) {
    super();
    this.addClass('jp-AinVerifyDialog');
    const node = this.node;
    node.appendChild(text('p', 'jp-AinVerifyDialog-explain', EXPLAIN[_o.kind]));

    const local = this.option('local', 'Local kernel', true);
    this._kernel = document.createElement('select');
    this._kernel.className = 'jp-AinVerifyDialog-kernel jp-mod-styled';
    const kernels = localKernels(_o.specs);
    for (const k of kernels) {
      const option = new Option(k.display_name, k.name, false, k.name === _o.preferredKernel);
      this._kernel.appendChild(option);
    }
    if (kernels.length === 0) {
      this._kernel.appendChild(new Option('no local kernel', ''));
      this._kernel.disabled = true;
    }
    local.appendChild(this._kernel);
    local.appendChild(
      text(
        'div',
        'jp-AinVerifyDialog-hint',
        'A fresh kernel of this Jupyter server, in a folder of its own; free.'
      )
    );

    const remote = this.option('provider', 'Another provider', false);
    this._providers = text('div', 'jp-AinVerifyDialog-providers', 'Reading the provider registry…');
    remote.appendChild(this._providers);
    const budgetRow = text('div', 'jp-AinVerifyDialog-budgetRow', 'Budget ');
    this._budget = document.createElement('input');
    this._budget.className = 'jp-AinVerifyDialog-budget jp-mod-styled';
    this._budget.value = _o.defaultBudget;
    this._budget.setAttribute('aria-label', 'Budget in AIN tokens');
    budgetRow.appendChild(this._budget);
    budgetRow.appendChild(text('span', 'jp-AinVerifyDialog-hint', ' AIN in escrow for the verifier’s run'));
    remote.appendChild(budgetRow);

    this._samples = document.createElement('input');
    this._samples.type = 'number';
    this._samples.min = '1';
    this._samples.value = String(_o.defaultSamples);
    this._samples.className = 'jp-AinVerifyDialog-samples jp-mod-styled';
    if (_o.kind === 'checkpoints') {
      const row = text('label', 'jp-AinVerifyDialog-samplesRow', 'Checkpoints to sample ');
      row.appendChild(this._samples);
      node.appendChild(row);
    }
    void this.loadProviders();
  }

  getValue(): IVerifyChoice | null {
    const samples = Math.max(1, Math.floor(Number(this._samples.value) || this._o.defaultSamples));
    const where = this.node.querySelector<HTMLInputElement>('input[name="jp-AinVerifyDialog-where"]:checked');
    if (where?.value === 'provider') {
      const picked = this._providers.querySelector<HTMLInputElement>('input:checked');
      const provider = this._list.find(p => p.address === picked?.value);
      return provider
        ? { executor: { kind: 'provider', provider, budget: this._budget.value }, samples }
        : null;
    }
    return this._kernel.value
      ? { executor: { kind: 'local', kernelName: this._kernel.value }, samples }
      : null;
  }

  private option(value: string, label: string, checked: boolean): HTMLElement {
    const box = text('fieldset', `jp-AinVerifyDialog-where jp-AinVerifyDialog-where-${value}`, '');
    const head = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'jp-AinVerifyDialog-where';
    radio.value = value;
    radio.checked = checked;
    head.appendChild(radio);
    head.appendChild(text('span', 'jp-AinVerifyDialog-label', ` ${label}`));
    box.appendChild(head);
    this.node.appendChild(box);
    return box;
  }

  private async loadProviders(): Promise<void> {
    if (!this._o.chain) {
      this._providers.textContent = 'The run pipeline is not loaded: only a local kernel is available.';
      return;
    }
    try {
      this._list = otherProviders(await this._o.chain.providers(), this._o.run.provider);
    } catch (e) {
      this._providers.textContent = `Cannot read the providers: ${errorMessage(e)}`;
      return;
    }
    this._providers.textContent = this._list.length ? '' : 'No other reachable provider is registered.';
    this._list.forEach((p, i) => {
      const { row, radio } = providerChoice('jp-AinVerifyDialog-provider', p.address, i === 0);
      // Picking a provider picks "Another provider", also the row already selected (no change event then).
      radio.addEventListener('click', () => {
        const where = this.node.querySelector<HTMLInputElement>('input[value="provider"]');
        if (where) {
          where.checked = true;
        }
      });
      row.appendChild(
        text('span', '', ` ${providerLabel(p)} · ${formatTokens(p.pricePerHour)} AIN/h · ${p.address}`)
      );
      this._providers.appendChild(row);
    });
  }

  private readonly _kernel: HTMLSelectElement;
  private readonly _providers: HTMLElement;
  private readonly _budget: HTMLInputElement;
  private readonly _samples: HTMLInputElement;
  private _list: IAinProviderListing[] = [];
}

export function text(tag: string, className: string, content: string): HTMLElement {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  node.textContent = content;
  return node;
}
