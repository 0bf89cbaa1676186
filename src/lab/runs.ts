/**
 * Provides IAinRuns, the run pipeline: pack the notebook and its environment (in the worker), open the run
 * on-chain with the wallet, log in to the provider and upload, follow its progress as JupyterLab notifications
 * (the build log one click away), and connect the notebook's kernel to the run server. Receipts and checkpoints
 * arrive as events and go out through `changed` for the evidence side. Errors say which step failed and what to
 * do; the notebook itself is never touched, so nothing in it is lost.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { hexlify } from 'ethers';
import { createBundle } from '../core/bundle-writer.js';
import type { Hex32 } from '../core/hash.js';
import { notebookHash } from '../core/notebook.js';
import { RunRegistryClient } from '../chain/run-registry.js';
import { AgentClient, probeAgent } from './agent-client.js';
import { AinChain } from './chain.js';
import { errorMessage, isLabError, labError } from './errors.js';
import { IAinKernelRouter, IAinRemoteServer, formatTokens, providerLabel } from './kernel-router.js';
import { notebookFiles, splitPath } from './notebook-files.js';
import { showRunPicker } from './picker-dialog.js';
import { AinRunModel, parseBudget } from './run-model.js';
import {
  IAinChain,
  IAinRun,
  IAinRunChange,
  IAinRuns,
  IAinSettings,
  IAinWorker,
  IAinWorkerApi,
  IProvisionRequest
} from './tokens.js';

/** How long a run may take from upload to a ready kernel (an environment build included). */
const READY_TIMEOUT_MS = 10 * 60_000;

export const runsPlugin: JupyterFrontEndPlugin<IAinRuns> = {
  id: 'jupyterlab-ain:runs',
  description: 'Provisions notebook runs on AI Network providers and follows them.',
  autoStart: true,
  requires: [IAinSettings, IAinChain, IAinKernelRouter, INotebookTracker],
  optional: [IAinWorker],
  provides: IAinRuns,
  activate: activateRuns
};

function activateRuns(
  app: JupyterFrontEnd,
  settings: IAinSettings,
  chain: IAinChain,
  router: IAinKernelRouter,
  tracker: INotebookTracker,
  worker: IAinWorkerApi | null
): IAinRuns {
  const runs = new AinRuns({ app, settings, chain, router, tracker, worker });
  // A provider chosen in the stock kernel picker: the same confirmation as "Run on AI Network", then provision.
  router.provisioner = async (path, provider) => {
    const choice = await showRunPicker({
      chain,
      settings,
      router,
      path,
      preselect: provider.address,
      contents: app.serviceManager.contents,
      tracker
    });
    if (!choice) {
      throw labError('LAB_CANCELLED', 'Cancelled: the notebook keeps its kernel.');
    }
    return runs.openServer({ path, provider: choice.provider, budget: choice.budget });
  };
  const refresh = () => void runs.refreshProviders();
  settings.changed.connect(refresh);
  void app.restored.then(refresh);
  return runs;
}

/** The runs of this JupyterLab session. */
export class AinRuns implements IAinRuns {
  private readonly _o: AinRuns.IOptions;
  private readonly _runs: AinRunModel[] = [];
  private readonly _agents = new Map<Hex32, AgentClient>();
  private readonly _follow = new Map<Hex32, AbortController>();
  private readonly _changed = new Signal<IAinRuns, IAinRunChange>(this);

  constructor(options: AinRuns.IOptions) {
    this._o = options;
  }

  get runs(): readonly IAinRun[] {
    return this._runs;
  }

  get changed(): ISignal<IAinRuns, IAinRunChange> {
    return this._changed;
  }

  runForPath(path: string): IAinRun | undefined {
    return [...this._runs].reverse().find(r => r.path === path);
  }

  /** Lists the registry's providers as kernel specs; quiet when the settings are not filled in yet. */
  async refreshProviders(): Promise<void> {
    try {
      this._o.router.setProviders(await this._o.chain.providers());
    } catch (e) {
      console.warn(`jupyterlab-ain: cannot list AI Network providers: ${errorMessage(e)}`);
    }
  }

  async provision(request: IProvisionRequest): Promise<IAinRun> {
    const server = await this.openServer(request);
    this._o.router.prepare(server);
    const panel = this.panelOf(request.path);
    await panel.sessionContext.changeKernel({ name: server.specName });
    return this._runs.find(r => r.record.runId === server.runId)!;
  }

  /** Provisions a run for a notebook and returns its run server (without connecting the notebook). */
  async openServer(request: IProvisionRequest): Promise<IAinRemoteServer> {
    const { provider, path } = request;
    const label = providerLabel(provider);
    const note = new Private.Progress(`Running ${splitPath(path).name} on ${label}`, `Run on ${label}`);
    let run: AinRunModel | undefined;
    let step = 'checking the budget';
    try {
      const escrow = parseBudget(request.budget);
      step = 'packing the notebook';
      note.step('Packing the notebook and its environment…');
      const panel = this.panelOf(path);
      const notebook = panel.model!.toJSON() as object;
      const { name } = splitPath(path);
      const files = await notebookFiles(this._o.app.serviceManager.contents, path, notebook);
      const bundle = this._o.worker
        ? await this._o.worker.pack(name, Object.fromEntries(files))
        : createBundle({ notebookPath: name, files });

      step = 'reaching the provider';
      note.step(`Checking that ${label} answers…`);
      const probe = await probeAgent(provider.endpoint);
      if (!probe.reachable) {
        // Before any transaction: nothing is escrowed for a provider that cannot run the notebook.
        throw labError(
          'LAB_PROVIDER_UNREACHABLE',
          `The provider ${label} (${provider.endpoint}) does not answer. Nothing was paid. Pick another provider ` +
            'or try again later.',
          step
        );
      }

      step = 'opening the run on-chain';
      note.step(`Opening the run on-chain: escrow ${formatTokens(escrow.toString())} AIN…`);
      const session = await (this._o.chain as AinChain).session();
      const registry = new RunRegistryClient(session);
      const random = (n: number) => hexlify(crypto.getRandomValues(new Uint8Array(n)));
      const opened = await registry.openRun({
        provider: provider.address,
        bundleHash: bundle.bundleHash,
        nonce: BigInt(random(8)),
        samplingSecret: random(32) as Hex32,
        escrow,
        pricePerHour: BigInt(provider.pricePerHour)
      });
      run = new AinRunModel(
        {
          chainId: session.config.chainId,
          runRegistry: session.config.contracts.runRegistry,
          runId: opened.runId,
          provider: provider.address,
          endpoint: provider.endpoint,
          bundleHash: bundle.bundleHash,
          notebookHash: notebookHash(notebook),
          escrow: escrow.toString(),
          pricePerHour: provider.pricePerHour,
          openedAt: new Date().toISOString(),
          state: 'provisioning'
        },
        path
      );
      run.log.push(`[on-chain] run ${opened.runId} opened in transaction ${opened.hash}`);
      this._runs.push(run);
      this._changed.emit({ run, kind: 'state' });

      step = 'logging in to the provider';
      note.step(`Signing in to ${label} with the wallet…`);
      const agent = new AgentClient({ endpoint: provider.endpoint, signer: session.requireSigner() });
      await agent.login();
      this._agents.set(opened.runId, agent);

      step = 'uploading the notebook';
      note.step('Uploading the bundle…');
      await agent.createRun(opened.runId, bundle.bytes);

      step = 'preparing the environment';
      await this.follow(run, agent, note);

      const base = `${provider.endpoint.replace(/\/+$/, '')}/runs/${opened.runId}/jupyter/`;
      const settings = ServerConnection.makeSettings({
        baseUrl: base,
        wsUrl: base.replace(/^http/, 'ws'),
        token: agent.token ?? '',
        appendToken: true
      });
      // Refreshed tokens go to the REST calls and the next websocket (re)connection of the kernel.
      agent.onToken(token => ((settings as { token: string }).token = token));
      note.done(`Connected to ${label}: cells now run there, each with a signed receipt.`, run);
      return {
        runId: opened.runId,
        specName: this._o.router.specName(provider),
        provider,
        path,
        remotePath: name,
        settings
      };
    } catch (e) {
      if (run) {
        const change = run.setState('failed');
        if (change) {
          this._changed.emit(change);
        }
        this._follow.get(run.record.runId)?.abort();
      }
      if (!isLabError(e, 'LAB_CANCELLED')) {
        note.fail(step, e, run);
      } else {
        note.dismiss();
      }
      throw e;
    }
  }

  async stop(runId: Hex32): Promise<void> {
    await this.agentOf(runId).stopRun(runId);
  }

  async anchorNow(runId: Hex32): Promise<void> {
    await this.agentOf(runId).anchorRun(runId);
  }

  async settle(runId: Hex32): Promise<void> {
    const registry = new RunRegistryClient(await (this._o.chain as AinChain).session());
    const onChain = await registry.getRun(runId);
    if (onChain.status === 'open') {
      await registry.closeRun(runId);
    }
    await registry.settle(runId);
  }

  /** Follows a run's events; resolves once its kernel is ready, rejects when it fails to start. */
  private follow(run: AinRunModel, agent: AgentClient, note: Private.Progress): Promise<void> {
    const controller = new AbortController();
    this._follow.set(run.record.runId, controller);
    const label = providerLabel({ address: run.record.provider, capabilities: '' });
    let outage: string | null = null;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            labError(
              'LAB_RUN_FAILED',
              `The provider did not get the kernel ready within ${READY_TIMEOUT_MS / 60_000} minutes; see the build log.`
            )
          ),
        READY_TIMEOUT_MS
      );
      void agent.followEvents(
        run.record.runId,
        e => {
          if (outage) {
            Notification.update({
              id: outage,
              message: `The provider ${label} answers again.`,
              type: 'success',
              autoClose: 4000
            });
            outage = null;
          }
          if (run.record.state === 'provisioning' && e.type !== 'receipt') {
            note.step(e.message);
          }
          for (const change of run.apply(e)) {
            this._changed.emit(change);
          }
          if (e.type === 'kernel-ready') {
            clearTimeout(timer);
            resolve();
          } else if (e.type === 'error' && run.record.state === 'failed') {
            clearTimeout(timer);
            reject(labError('LAB_RUN_FAILED', `The provider could not start the run: ${e.message}`));
          } else if (
            e.type === 'budget-warning' ||
            e.type === 'budget-exhausted' ||
            e.type === 'anchor-failed'
          ) {
            Notification.warning(`${label}: ${e.message}`, { autoClose: 8000 });
          }
        },
        controller.signal,
        (error, attempt) => {
          if (attempt === 2 && !outage) {
            outage = Notification.warning(
              `The provider ${label} does not answer (${errorMessage(error)}). Reconnecting; the receipts ` +
                'already anchored on-chain stay valid.',
              { autoClose: false }
            );
          }
        }
      );
    });
  }

  private agentOf(runId: Hex32): AgentClient {
    const agent = this._agents.get(runId);
    if (!agent) {
      throw labError(
        'LAB_RUN_FAILED',
        `Run ${runId} was not opened in this JupyterLab session; reload its provider's page.`
      );
    }
    return agent;
  }

  private panelOf(path: string): NotebookPanel {
    let panel: NotebookPanel | undefined;
    this._o.tracker.forEach(p => {
      if (p.context.path === path) {
        panel = p;
      }
    });
    if (!panel?.model) {
      throw labError('LAB_NO_NOTEBOOK', `The notebook ${path} is not open; open it and try again.`);
    }
    return panel;
  }
}

export namespace AinRuns {
  export interface IOptions {
    app: JupyterFrontEnd;
    settings: IAinSettings;
    chain: IAinChain;
    router: IAinKernelRouter;
    tracker: INotebookTracker;
    worker: IAinWorkerApi | null;
  }
}

namespace Private {
  /** One notification that follows a provisioning from the first step to success or failure. */
  export class Progress {
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
        actions: [logAction(run)]
      });
    }

    fail(step: string, error: unknown, run: AinRunModel | undefined): void {
      // A new notification rather than an update: a failure in the first milliseconds would otherwise race the
      // toast of "starting…" (an update before the toast is shown does not reach it).
      Notification.dismiss(this._id);
      Notification.error(
        `${this._label} not started (notebook unchanged): ${step} failed. ${errorMessage(error)}`,
        { autoClose: false, actions: run ? [logAction(run)] : [] }
      );
    }

    dismiss(): void {
      Notification.dismiss(this._id);
    }
  }

  function logAction(run: AinRunModel): Notification.IAction {
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
}
