/**
 * Launch links in JupyterLab (src/core/launch-link.ts has the formats):
 *  - a router rule for `?ain-run=` and `?ain-bundle=` (rank 60: before JupyterLab's tree rule at 100) that opens
 *    the notebook — for a bundle, after downloading it in a worker, checking it against its hash and writing it
 *    under `ain-launch/` — then asks what to do (launch-dialog.ts) and removes the parameter from the URL;
 *  - "Copy launch link", "Copy README badge" and "Copy bundle launch link" (launch-copy.ts), in the palette and
 *    the notebook's context menu (schema/launch-link.json).
 *
 * The rule never waits for the application inside routing (JupyterLab's layout restorer waits for routing to end):
 * it decides, schedules the work after `app.restored`, and returns.
 */
import { IRouter, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification, showErrorMessage } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Remote, wrap } from 'comlink';
import { METADATA_KEY, readEvidence } from '../core/evidence.js';
import { ILaunchBundle, ILaunchRun, readLaunchTarget, withoutLaunchParams } from '../core/launch-link.js';
import { CommandIDs } from './command-ids.js';
import { errorMessage } from './errors.js';
import { unpackLaunchBundle } from './launch-bundle.js';
import {
  DEFAULT_LAUNCH_SETTINGS,
  ILaunchLinkSettings,
  copyBundleLink,
  publishRunEvidence,
  copyLaunchLink
} from './launch-copy.js';
import { LaunchChoice, showLaunchDialog, showWrongChain } from './launch-dialog.js';
import { bundleLinkFacts, runLinkFacts } from './launch-facts.js';
import type { ILaunchWorkerApi } from './launch-worker-api.js';
import { IAinChain, IAinSettings, IAinWorker, IAinWorkerApi } from './tokens.js';

/** The plugin id: also the key of schema/launch-link.json. */
export const LAUNCH_PLUGIN_ID = 'jupyterlab-ain:launch-link';

/** URLs this rule takes: a launch parameter anywhere in the query. */
const LAUNCH_PATTERN = /[?&]ain-(?:run|bundle)=/;
/** Below JupyterLab's tree rule (100), above its workspace rules (20, 30). */
const LAUNCH_RANK = 60;

export const launchLinkPlugin: JupyterFrontEndPlugin<void> = {
  id: LAUNCH_PLUGIN_ID,
  description:
    'Launch links: open a notebook from a link and offer to run or reproduce it; copy links and badges.',
  autoStart: true,
  requires: [IRouter, INotebookTracker, IAinSettings, IAinChain],
  optional: [ICommandPalette, ISettingRegistry, IAinWorker],
  activate: activateLaunchLinks
};

function activateLaunchLinks(
  app: JupyterFrontEnd,
  router: IRouter,
  tracker: INotebookTracker,
  settings: IAinSettings,
  chain: IAinChain,
  palette: ICommandPalette | null,
  registry: ISettingRegistry | null,
  verifyWorker: IAinWorkerApi | null
): void {
  let linkSettings: ILaunchLinkSettings = DEFAULT_LAUNCH_SETTINGS;
  registry
    ?.load(LAUNCH_PLUGIN_ID)
    .then(s => {
      const read = () => (linkSettings = { ...DEFAULT_LAUNCH_SETTINGS, ...(s.composite as object) });
      s.changed.connect(read);
      read();
    })
    .catch(e => console.warn(`jupyterlab-ain: cannot load ${LAUNCH_PLUGIN_ID}, using defaults: ${e}`));
  const launcher = new Launcher({ app, router, settings, chain, verifyWorker });

  app.commands.addCommand(CommandIDs.openLaunchLink, {
    label: 'Open Launch Link',
    execute: args => launcher.route(args as IRouter.ILocation)
  });
  router.register({ command: CommandIDs.openLaunchLink, pattern: LAUNCH_PATTERN, rank: LAUNCH_RANK });

  const options = () => {
    const panel = tracker.currentWidget;
    return panel ? { panel, base: app.serviceManager.serverSettings.baseUrl, settings: linkSettings } : null;
  };
  const enabled = () => tracker.currentWidget !== null;
  app.commands.addCommand(CommandIDs.copyLaunchLink, {
    label: 'Copy Launch Link',
    caption: 'Copy a link that opens this notebook and offers to run or reproduce its latest AI Network run',
    isEnabled: enabled,
    execute: () => {
      const o = options();
      return o ? copyLaunchLink(o) : null;
    }
  });
  app.commands.addCommand(CommandIDs.copyLaunchBadge, {
    label: 'Copy README Badge (Run on AI Network)',
    caption:
      'Copy Markdown for a README: the "Run on AI Network" badge, linked to this notebook’s launch link',
    isEnabled: enabled,
    execute: () => {
      const o = options();
      return o ? copyLaunchLink(o, true) : null;
    }
  });
  app.commands.addCommand(CommandIDs.copyBundleLink, {
    label: 'Copy Bundle Launch Link',
    caption: 'Publish the latest run’s bundle at its provider and copy a content-addressed link to it',
    isEnabled: enabled,
    execute: () => {
      const o = options();
      return o ? copyBundleLink(o, chain) : null;
    }
  });
  app.commands.addCommand(CommandIDs.publishRun, {
    label: 'Publish Run Evidence',
    caption:
      'Let anyone with this notebook verify its latest run fully (outputs of every step, committed artifacts)',
    isEnabled: enabled,
    execute: () => {
      const o = options();
      return o ? publishRunEvidence(o, chain) : null;
    }
  });
  for (const command of [
    CommandIDs.copyLaunchLink,
    CommandIDs.copyLaunchBadge,
    CommandIDs.copyBundleLink,
    CommandIDs.publishRun
  ]) {
    palette?.addItem({ command, category: 'AI Network' });
  }
}

/** Carries out launch links. */
class Launcher {
  private readonly _handled = new Set<string>();
  private _worker: Remote<ILaunchWorkerApi> | null = null;

  constructor(
    private readonly _o: {
      app: JupyterFrontEnd;
      router: IRouter;
      settings: IAinSettings;
      chain: IAinChain;
      verifyWorker: IAinWorkerApi | null;
    }
  ) {}

  /** The router rule: decides and schedules; returns `router.stop` when the tree rule must not open the path. */
  async route(location: IRouter.ILocation): Promise<unknown> {
    const { app, router } = this._o;
    // Back and forward route the same URL again: a link asks once per page.
    if (this._handled.has(location.request)) {
      return undefined;
    }
    this._handled.add(location.request);
    const later = (work: () => Promise<void>) =>
      void app.restored
        .then(work)
        .catch(e => showErrorMessage('Launch link', errorMessage(e)))
        .finally(() => this.strip());
    let target: ILaunchRun | ILaunchBundle | null;
    try {
      target = readLaunchTarget(location.search ?? '');
    } catch (e) {
      later(() =>
        showErrorMessage('This launch link is malformed', `${errorMessage(e)} Nothing was run.`).then()
      );
      return undefined;
    }
    const path = Private.treePath(location.path);
    if (target?.kind === 'bundle') {
      later(() => this.launchBundle(target as ILaunchBundle));
      // The notebook is not in the user's files yet: the tree rule would only say "Could not find path".
      return router.stop;
    }
    if (!target) {
      return undefined;
    }
    const run = target;
    if (!path || !path.endsWith('.ipynb')) {
      later(() =>
        showErrorMessage(
          'A run link opens a notebook',
          `A run link names the notebook to open: <server>/lab/tree/<notebook>.ipynb?ain-run=${run.chainId}:${run.runId}. ` +
            `This one names ${path ? `“${path}”` : 'none'}. Nothing was run.`
        ).then()
      );
      return undefined;
    }
    const exists = await app.serviceManager.contents.get(path, { content: false }).then(
      () => true,
      () => false
    );
    if (!exists) {
      later(() =>
        showErrorMessage(
          'The notebook of this launch link is not here',
          `${path} is not in this JupyterLab’s files. A run link opens a notebook you already have (for example ` +
            'from the repository this JupyterLab was started on); for a notebook you do not have, ask for a bundle ' +
            'link (ain-bundle=…), which downloads it. Nothing was run.'
        ).then()
      );
      return router.stop;
    }
    later(() => this.launchRun(run, path));
    return undefined;
  }

  private async launchRun(target: ILaunchRun, path: string): Promise<void> {
    const { settings, chain, verifyWorker } = this._o;
    const panel = await this.openNotebook(path);
    const values = settings.values;
    if (target.chainId !== values.chainId) {
      this.strip();
      return showWrongChain({
        path,
        runId: target.runId,
        linkChainId: target.chainId,
        configuredChainId: values.chainId,
        rpcUrl: values.rpcUrl
      });
    }
    const config = chain.config;
    if (!config) {
      throw new Error(
        'AI Network is not set up in this JupyterLab: fill in the contract addresses in Settings › AI Network (or ' +
          'start it with `ain dev`), then open the link again. The notebook is open; nothing ran.'
      );
    }
    const evidence = readEvidence(panel.model?.getMetadata(METADATA_KEY)).evidence;
    const notebookHash = verifyWorker
      ? await verifyWorker.notebookHash(panel.model!.toJSON() as object).catch(() => null)
      : null;
    const facts = await runLinkFacts({ config, target, path, evidence, notebookHash });
    this.strip();
    await this.act(await showLaunchDialog(facts), panel, target.runId);
  }

  private async launchBundle(target: ILaunchBundle): Promise<void> {
    const { app, chain } = this._o;
    const short = `${target.bundleHash.slice(0, 10)}…`;
    const id = Notification.emit(`Downloading bundle ${short} from ${target.agentUrl}…`, 'in-progress', {
      autoClose: false
    });
    const result = await this.worker().fetchBundle(target.agentUrl, target.bundleHash);
    if (!result.ok) {
      // Toasts show the first ~140 characters: what happened first, the details after.
      const reason =
        result.status === 404
          ? `${target.agentUrl} has no published bundle ${short} (ask the link’s author to publish it: Copy ` +
            `Bundle Launch Link). ${result.message}`
          : result.code === 'BUNDLE_HASH_MISMATCH'
            ? `${target.agentUrl} sent another bundle than ${short}. ${result.message}`
            : `${result.code}: ${result.message}`;
      Notification.update({
        id,
        type: 'error',
        autoClose: false,
        message: `Launch link refused, nothing written or run: ${reason}`
      });
      return;
    }
    const unpacked = await unpackLaunchBundle(
      app.serviceManager.contents,
      result.bundle,
      target.agentUrl
    ).catch(e => {
      Notification.dismiss(id);
      throw e;
    });
    Notification.update({
      id,
      type: 'success',
      autoClose: 5000,
      message: unpacked.reused
        ? `Bundle ${short} is already in ${unpacked.folder}: your copy is opened, nothing was overwritten.`
        : `Bundle ${short} checked and written to ${unpacked.folder}.`
    });
    const panel = await this.openNotebook(unpacked.notebookPath);
    const evidence = readEvidence(panel.model?.getMetadata(METADATA_KEY)).evidence;
    const facts = await bundleLinkFacts({
      config: chain.config,
      target,
      bundle: result.bundle,
      unpacked,
      evidence
    });
    this.strip();
    await this.act(await showLaunchDialog(facts), panel);
  }

  /** Carries out the choice on the open notebook (`runId`: the run a run link names, the one to reproduce). */
  private async act(choice: LaunchChoice, panel: NotebookPanel, runId?: string): Promise<void> {
    const { app } = this._o;
    if (choice === 'cancel') {
      return;
    }
    app.shell.activateById(panel.id);
    if (choice === 'run') {
      await app.commands.execute(CommandIDs.runNotebook);
      return;
    }
    if (!app.commands.hasCommand(CommandIDs.reproduce)) {
      await showErrorMessage(
        'Reproduce is not available',
        `This JupyterLab has no “Reproduce” command (${CommandIDs.reproduce}): the verification part of ` +
          'jupyterlab-ain is missing or did not start (the browser console says why). The notebook is open; nothing ran.'
      );
      return;
    }
    await app.commands.execute(CommandIDs.reproduce, {
      path: panel.context.path,
      ...(runId ? { runId } : {})
    });
  }

  private async openNotebook(path: string): Promise<NotebookPanel> {
    const widget = (await this._o.app.commands.execute('docmanager:open', {
      path,
      factory: 'Notebook'
    })) as NotebookPanel | undefined;
    if (!widget?.context) {
      throw new Error(`Could not open ${path} as a notebook. Nothing was run.`);
    }
    await widget.context.ready;
    return widget;
  }

  /** Removes the launch parameters from the address bar (without routing again). */
  private strip(): void {
    const { router } = this._o;
    const { path, search, hash } = router.current;
    const rest = withoutLaunchParams(search ?? '');
    if (rest !== (search ?? '')) {
      router.navigate(`${path}${rest}${hash}`, { skipRouting: true });
    }
  }

  private worker(): Remote<ILaunchWorkerApi> {
    // Started on first use: a session that never opens a bundle link never pays for it.
    this._worker ??= wrap<ILaunchWorkerApi>(
      new Worker(new URL('./launch.worker.js', import.meta.url), { name: 'jupyterlab-ain-launch' })
    );
    return this._worker;
  }
}

namespace Private {
  const TREE = /^\/(?:lab|doc)(?:\/workspaces\/[^/]+)?\/tree\/(.+)$/;

  /** The decoded notebook path of a tree URL path (`/lab/tree/a%20b.ipynb` -> `a b.ipynb`), or ''. */
  export function treePath(urlPath: string): string {
    const m = TREE.exec(urlPath);
    if (!m) {
      return '';
    }
    try {
      return m[1]
        .split('/')
        .map(s => decodeURIComponent(s))
        .join('/');
    } catch {
      return '';
    }
  }
}
