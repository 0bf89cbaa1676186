/**
 * Provides IAinRuns, the run pipeline: pack the notebook and its environment (in the worker), open the run
 * on-chain with the wallet, log in to the provider and upload, follow its progress as JupyterLab notifications
 * (the build log one click away), and connect the notebook's kernel to the run server. Receipts and checkpoints
 * arrive as events and go out through `changed` for the evidence side. Errors say which step failed and what to
 * do; the notebook itself is never touched, so nothing in it is lost.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import { hexlify } from 'ethers';
import { createBundle } from '../core/bundle-writer.js';
import type { Hex32 } from '../core/hash.js';
import { notebookHash } from '../core/notebook.js';
import { RunRegistryClient } from '../chain/run-registry.js';
import { AgentClient, probeAgent } from './agent-client.js';
import { AinChain } from './chain.js';
import { errorMessage, isLabError, labError } from './errors.js';
import { formatTokens } from './display.js';
import { IAinKernelRouter, IAinRemoteServer, providerLabel } from './kernel-router.js';
import { notebookFiles, splitPath, withoutOutputs } from './notebook-files.js';
import { showRunPicker } from './picker-dialog.js';
import { AinRunModel, parseBudget } from './run-model.js';
import { followRun } from './run-follow.js';
import { RunProgress } from './run-progress.js';
import { keepSecret, revealAfterFinalAnchor, revealSecret } from './run-reveal.js';
import { ISecretStorage, SamplingSecretStore, browserStorage } from './secret-store.js';
import {
  IAinChain,
  IAinRun,
  IAinRunChange,
  IAinRunRecord,
  IAinRuns,
  IAinSettings,
  IAinWorker,
  IAinWorkerApi,
  IProvisionRequest
} from './tokens.js';

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
  /** Logins per provider endpoint for runs not opened in this session (a restored notebook's own runs). */
  private readonly _logins = new Map<string, Promise<AgentClient>>();
  private readonly _follow = new Map<Hex32, AbortController>();
  private readonly _changed = new Signal<IAinRuns, IAinRunChange>(this);
  private readonly _secrets: SamplingSecretStore;

  constructor(options: AinRuns.IOptions) {
    this._o = options;
    this._secrets = new SamplingSecretStore(
      options.storage === undefined ? browserStorage() : options.storage
    );
  }

  get runs(): readonly IAinRun[] {
    return this._runs;
  }

  get changed(): ISignal<IAinRuns, IAinRunChange> {
    return this._changed;
  }

  runForPath(path: string): IAinRun | undefined {
    // A verifier's run re-executes the notebook but is not its run.
    return [...this._runs].reverse().find(r => r.path === path && !r.reproduces);
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

  openVerifierServer(request: IProvisionRequest & { reproduces: Hex32 }): Promise<IAinRemoteServer> {
    return this.openServer(request, request.reproduces);
  }

  /**
   * Provisions a run for a notebook and returns its run server (without connecting the notebook). With
   * `reproduces`, the run is a verifier's re-execution of that run: same steps, but never the notebook's run.
   */
  async openServer(request: IProvisionRequest, reproduces?: Hex32): Promise<IAinRemoteServer> {
    const { provider, path } = request;
    const label = providerLabel(provider);
    const what = reproduces ? 'Reproducing' : 'Running';
    const note = new RunProgress(`${what} ${splitPath(path).name} on ${label}`, `Run on ${label}`);
    let run: AinRunModel | undefined;
    let step = 'checking the budget';
    try {
      const escrow = parseBudget(request.budget);
      step = 'packing the notebook';
      note.step('Packing the notebook and its environment…');
      const panel = this.panelOf(path);
      // A verifier's provider gets the code without the claimed outputs and evidence: nothing to copy from.
      const notebook = reproduces
        ? withoutOutputs(panel.model!.toJSON() as object)
        : (panel.model!.toJSON() as object);
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
      const samplingSecret = random(32) as Hex32;
      const opened = await registry.openRun({
        provider: provider.address,
        bundleHash: bundle.bundleHash,
        nonce: BigInt(random(8)),
        samplingSecret,
        escrow,
        pricePerHour: BigInt(provider.pricePerHour)
      });
      if (!reproduces) {
        const key = { chainId: session.config.chainId, runRegistry: session.config.contracts.runRegistry };
        keepSecret(this._secrets, { ...key, runId: opened.runId }, samplingSecret);
      }
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
          openedBlock: opened.blockNumber,
          state: 'provisioning'
        },
        path,
        Date.now,
        { reproduces }
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
      const created = await agent.createRun(opened.runId, bundle.bytes);
      if (created.salt) {
        // The output-hash salt makes the notebook's saved outputs checkable against the receipts (evidence.ts).
        this._changed.emit(run.update({ salt: created.salt }));
      }

      step = 'preparing the environment';
      const controller = new AbortController();
      this._follow.set(run.record.runId, controller);
      await followRun({
        run,
        agent,
        note,
        signal: controller.signal,
        emit: change => this._changed.emit(change),
        commands: this._o.app.commands
      });

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
    const run = this._runs.find(r => r.record.runId === runId);
    if (run && !run.reproduces && !run.record.revealTx && this.hasSamplingSecret(run.record)) {
      // The run's receipts are final: once the provider anchored them all, the sample may be known.
      void revealAfterFinalAnchor({
        run,
        changed: this._changed,
        reveal: () => this.revealSamplingSecret(run.record),
        commands: this._o.app.commands
      });
    }
  }

  hasSamplingSecret(record: IAinRunRecord): boolean {
    return this._secrets.get(record) !== null;
  }

  async revealSamplingSecret(record: IAinRunRecord): Promise<{ txHash: string }> {
    const fields = await revealSecret(this._secrets, await (this._o.chain as AinChain).session(), record);
    const run = this._runs.find(r => r.record.runId === record.runId);
    if (run) {
      this._changed.emit(run.update(fields));
    } else {
      Object.assign(record, fields);
    }
    return { txHash: fields.revealTx };
  }

  async agentFor(record: IAinRunRecord): Promise<AgentClient> {
    const live = this._agents.get(record.runId);
    if (live) {
      return live;
    }
    const endpoint = record.endpoint.replace(/\/+$/, '');
    let login = this._logins.get(endpoint);
    if (!login) {
      login = (async () => {
        const signer = await this._o.chain.signer();
        const agent = new AgentClient({ endpoint, signer });
        await agent.login();
        return agent;
      })();
      login.catch(() => this._logins.delete(endpoint));
      this._logins.set(endpoint, login);
    }
    return login;
  }

  async anchorNow(runId: Hex32): Promise<void> {
    await this.agentOf(runId).anchorRun(runId);
  }

  async settle(runId: Hex32): Promise<void> {
    const registry = new RunRegistryClient(await (this._o.chain as AinChain).session());
    const onChain = await registry.getRun(runId);
    if (onChain.status === 'settled' || onChain.status === 'slashed') {
      // The provider's agent settles ended runs itself once the window has passed; nothing is left to do.
      return;
    }
    if (onChain.status === 'open') {
      await registry.closeRun(runId);
    }
    await registry.settle(runId);
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
    /** Where sampling secrets wait for their reveal (default localStorage; null: nowhere). */
    storage?: ISecretStorage | null;
  }
}
