/**
 * The "AI Network" sidebar: wallet and chain, providers, this session's runs (time and cost so far), their
 * receipts, and the run actions (anchor now, stop, settle) carried out by IAinRuns. Runs restored from open
 * notebooks are listed too, so a shared notebook's evidence is visible without the run pipeline.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { showErrorMessage } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { CommandIDs } from './command-ids.js';
import { ainIcon, formatDuration, formatTokens, shortHex } from './display.js';
import { checkpointStatus } from './run-model.js';
import { latestVerificationSummary } from './verify-model.js';
import {
  IAinChain,
  IAinEvidence,
  IAinProviderListing,
  IAinReceiptCheck,
  IAinRunRecord,
  IAinRuns
} from './tokens.js';

/** The sidebar panel. */
export class AinSidebar extends Widget {
  constructor(options: AinSidebar.IOptions) {
    super();
    this._options = options;
    this.id = 'jp-AinSidebar';
    this.addClass('jp-AinSidebar');
    this.title.icon = ainIcon;
    this.title.caption = 'AI Network';
    options.evidence.changed.connect(this._schedule, this);
    options.runs?.changed.connect(this._schedule, this);
    options.chain?.changed.connect(this._schedule, this);
    // Time and cost move on while a run is live.
    this._ticker = setInterval(() => {
      if (this.isVisible && options.runs?.runs.some(r => r.record.state === 'running')) {
        this.render();
      }
    }, 1000);
    this.render();
  }

  dispose(): void {
    clearInterval(this._ticker);
    this._options.evidence.changed.disconnect(this._schedule, this);
    this._options.runs?.changed.disconnect(this._schedule, this);
    this._options.chain?.changed.disconnect(this._schedule, this);
    super.dispose();
  }

  /** Rebuilds the panel's content. */
  render(): void {
    const { chain, runs, evidence } = this._options;
    const root = this.node;
    root.replaceChildren();
    root.appendChild(h('h2', 'jp-AinSidebar-heading', 'AI Network'));

    const wallet = this._section('Wallet and chain', 'wallet');
    if (chain) {
      const config = chain.config;
      wallet.appendChild(row('Account', chain.account ?? 'not connected'));
      wallet.appendChild(row('Chain', config ? `${config.chainId} at ${config.rpcUrl}` : 'not configured'));
      if (!chain.account) {
        wallet.appendChild(this._button('Connect wallet', () => chain.connect()));
      }
    } else {
      wallet.appendChild(
        h(
          'p',
          'jp-AinSidebar-note',
          'The run pipeline is not loaded: evidence is restored and re-checked only.'
        )
      );
    }

    const providers = this._section('Providers', 'providers');
    if (chain) {
      for (const p of this._providers) {
        providers.appendChild(
          row(
            shortHex(p.address),
            `${formatTokens(p.pricePerHour)}/h · stake ${formatTokens(p.stake)} · ${
              p.reachable === null ? 'probing' : p.reachable ? `${p.latencyMs ?? '?'} ms` : 'unreachable'
            }`
          )
        );
      }
      providers.appendChild(
        this._button('Refresh providers', async () => {
          this._providers = await chain.providers();
          this.render();
        })
      );
    } else {
      providers.appendChild(
        h('p', 'jp-AinSidebar-note', 'Providers are listed once the chain is configured.')
      );
    }

    const runsSection = this._section('Runs', 'runs');
    const seen = new Set<string>();
    for (const run of runs?.runs ?? []) {
      seen.add(run.record.runId);
      const checks = evidence.lastCheck(run.path)?.receipts.filter(c => c.runId === run.record.runId) ?? [];
      runsSection.appendChild(
        this._run(
          run.record,
          run.path,
          run.receipts.length,
          checks,
          run.spent(),
          true,
          run.reproduces,
          run.checkpoints
        )
      );
    }
    for (const path of evidence.paths()) {
      const ev = evidence.evidence(path);
      for (const record of ev?.runs ?? []) {
        if (seen.has(record.runId)) {
          continue;
        }
        seen.add(record.runId);
        const checks = evidence.lastCheck(path)?.receipts.filter(c => c.runId === record.runId) ?? [];
        const count = ev?.receipts.filter(r => r.runId === record.runId).length ?? 0;
        runsSection.appendChild(this._run(record, path, count, checks, null, false));
      }
    }
    if (seen.size === 0) {
      runsSection.appendChild(
        h('p', 'jp-AinSidebar-note', 'No runs yet in this session or the open notebooks.')
      );
    }
  }

  private _run(
    record: IAinRunRecord,
    path: string,
    receiptCount: number,
    checks: IAinReceiptCheck[],
    spent: string | null,
    live: boolean,
    reproduces?: string,
    checkpoints?: readonly { txHash?: string }[]
  ): HTMLElement {
    const node = h('div', 'jp-AinSidebar-run', '');
    node.dataset.runId = record.runId;
    const role = reproduces ? ` (verifier run of ${shortHex(reproduces)})` : '';
    node.appendChild(h('div', 'jp-AinSidebar-runTitle', `${path}${role} · ${record.state}`));
    node.appendChild(row('Run', shortHex(record.runId)));
    node.appendChild(row('Provider', shortHex(record.provider)));
    const end = record.endedAt ? Date.parse(record.endedAt) : live ? Date.now() : NaN;
    const opened = Date.parse(record.openedAt);
    if (Number.isFinite(end) && Number.isFinite(opened)) {
      node.appendChild(row('Time', formatDuration(end - opened)));
    }
    node.appendChild(
      row(
        'Cost',
        spent === null
          ? `escrow ${formatTokens(record.escrow)}`
          : `${formatTokens(spent)} of ${formatTokens(record.escrow)}`
      )
    );
    const anchored = checks.filter(c => c.anchored).length;
    const bad = checks.filter(c => c.signature !== null || c.integrity !== null || c.contradicted).length;
    node.appendChild(
      row(
        'Receipts',
        checks.length
          ? `${receiptCount}: ${anchored} anchored, ${checks.length - anchored - bad} signed, ${bad} invalid`
          : `${receiptCount} (not checked yet)`
      )
    );
    if (checkpoints) {
      // Live runs know their queued checkpoints: "anchor pending" while the agent waits for the chain.
      node.appendChild(row('Checkpoints', checkpointStatus(checkpoints)));
    }
    if (live) {
      const actions = h('div', 'jp-AinSidebar-actions', '');
      const { commands } = this._options;
      for (const [label, id] of [
        ['Anchor now', CommandIDs.anchorNow],
        ['Stop run', CommandIDs.stopRun],
        ['Settle', CommandIDs.settleRun]
      ]) {
        actions.appendChild(this._button(label, () => commands.execute(id, { runId: record.runId })));
      }
      node.appendChild(actions);
    }
    if (!reproduces) {
      this._verification(node, record, path);
    }
    return node;
  }

  /** The run's latest verification, its challenges, and the verification actions. */
  private _verification(node: HTMLElement, record: IAinRunRecord, path: string): void {
    const { commands, evidence } = this._options;
    const ev = evidence.evidence(path);
    const summary = latestVerificationSummary(ev, record.runId);
    const verified = row('Verified', summary ?? 'not verified yet');
    verified.classList.add('jp-AinSidebar-verification');
    node.appendChild(verified);
    for (const e of (ev?.equivocations ?? []).filter(x => x.runId === record.runId)) {
      const challenge = row(
        'Equivocation',
        e.challengeTx
          ? `step ${e.step}: challenged, provider slashed in ${e.challengeTx}`
          : `step ${e.step}: two receipts signed; not challenged yet`
      );
      challenge.classList.add('jp-AinSidebar-equivocation');
      node.appendChild(challenge);
    }
    const actions = h('div', 'jp-AinSidebar-actions jp-AinSidebar-verifyActions', '');
    const args = { path, runId: record.runId };
    const items: [string, string][] = [
      ['Reproduce', CommandIDs.reproduce],
      ['Check checkpoints', CommandIDs.verifyCheckpoints],
      ['Check objective', CommandIDs.verifyObjective]
    ];
    if (commands.hasCommand(CommandIDs.challenge) && commands.isEnabled(CommandIDs.challenge, args)) {
      items.push(['Challenge', CommandIDs.challenge]);
    }
    for (const [label, id] of items) {
      if (commands.hasCommand(id)) {
        const button = this._button(label, () => commands.execute(id, args));
        button.dataset.command = id;
        actions.appendChild(button);
      }
    }
    node.appendChild(actions);
  }

  private _section(title: string, kind: string): HTMLElement {
    const node = h('section', `jp-AinSidebar-section jp-AinSidebar-${kind}`, '');
    node.appendChild(h('h3', 'jp-AinSidebar-title', title));
    this.node.appendChild(node);
    return node;
  }

  private _button(label: string, action: () => Promise<unknown>): HTMLButtonElement {
    const button = h('button', 'jp-AinSidebar-button jp-mod-styled', label) as HTMLButtonElement;
    button.type = 'button';
    button.addEventListener('click', () => {
      button.disabled = true;
      action()
        .catch(e => showErrorMessage(label, e instanceof Error ? e.message : String(e)))
        .finally(() => {
          button.disabled = false;
        });
    });
    return button;
  }

  private _schedule(): void {
    // Receipts arrive in bursts: render once per frame at most.
    if (this._frame === 0) {
      this._frame = requestAnimationFrame(() => {
        this._frame = 0;
        if (!this.isDisposed) {
          this.render();
        }
      });
    }
  }

  private readonly _options: AinSidebar.IOptions;
  private readonly _ticker: ReturnType<typeof setInterval>;
  private _providers: IAinProviderListing[] = [];
  private _frame = 0;
}

/** AinSidebar's statics. */
export namespace AinSidebar {
  export interface IOptions {
    commands: JupyterFrontEnd['commands'];
    evidence: IAinEvidence;
    runs: IAinRuns | null;
    chain: IAinChain | null;
  }
}

function h(tag: string, className: string, text: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function row(name: string, value: string): HTMLElement {
  const node = h('div', 'jp-AinSidebar-row', '');
  node.appendChild(h('span', 'jp-AinSidebar-name', name));
  node.appendChild(h('span', 'jp-AinSidebar-value', value));
  return node;
}
