/**
 * "Copy launch link", "Copy README badge" and "Copy bundle launch link": links to the current notebook's latest run
 * (from its metadata.ain), as the router rule of launch-link.ts reads them back. A README badge must open somewhere
 * the reader can reach, so with a Binder repository set in the settings the links take the Binder form; otherwise
 * they point at this server.
 */
import { Clipboard, Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { IAinRunRecord, METADATA_KEY, readEvidence } from '../core/evidence.js';
import { LaunchTarget, badgeMarkdown, binderLink, launchLink } from '../core/launch-link.js';
import { AgentClient } from '../chain/agent-client.js';
import { IAinChain } from './tokens.js';

/** The launch-link settings (schema/launch-link.json). */
export interface ILaunchLinkSettings {
  badgeImageUrl: string;
  binderRepository: string;
  binderRef: string;
}

/** Defaults of schema/launch-link.json. */
export const DEFAULT_LAUNCH_SETTINGS: ILaunchLinkSettings = {
  badgeImageUrl: 'https://cdn.jsdelivr.net/npm/jupyterlab-ain@0.1.0/style/badge.svg',
  binderRepository: '',
  binderRef: 'main'
};

/** The latest run recorded in the notebook (by opening time), or null with the reason. */
export function latestRun(panel: NotebookPanel): IAinRunRecord | null {
  const { evidence } = readEvidence(panel.model?.getMetadata(METADATA_KEY));
  const runs = [...evidence.runs].sort((a, b) => String(a.openedAt).localeCompare(String(b.openedAt)));
  return runs.length ? runs[runs.length - 1] : null;
}

/** The link for `target` on this server (`base`) or, with a Binder repository set, on Binder. */
export function linkFor(
  path: string,
  target: LaunchTarget,
  base: string,
  settings: ILaunchLinkSettings
): string {
  return settings.binderRepository
    ? binderLink({ repository: settings.binderRepository, ref: settings.binderRef || 'main', path, target })
    : launchLink({ base, path, target });
}

/** What the copy commands need. */
export interface ICopyOptions {
  panel: NotebookPanel;
  /** This server's base URL (absolute). */
  base: string;
  settings: ILaunchLinkSettings;
}

/** Copies the `ain-run` link of the notebook's latest run; resolves with it (null when there is no run). */
export async function copyLaunchLink(options: ICopyOptions, badge = false): Promise<string | null> {
  const run = Private.requireRun(options.panel);
  if (!run) {
    return null;
  }
  const link = linkFor(
    options.panel.context.path,
    { kind: 'run', chainId: run.chainId, runId: run.runId },
    options.base,
    options.settings
  );
  const text = badge ? badgeMarkdown(link, options.settings.badgeImageUrl) : link;
  await Private.copy(text, badge ? 'README badge (Markdown)' : 'Launch link');
  return text;
}

/**
 * Publishes the latest run's bundle at its provider (after saying what that means), then copies the
 * content-addressed `ain-bundle` link. Logging in to the provider needs the run client's wallet.
 */
export async function copyBundleLink(options: ICopyOptions, chain: IAinChain): Promise<string | null> {
  const run = Private.requireRun(options.panel);
  if (!run) {
    return null;
  }
  const answer = await showDialog({
    title: 'Publish this notebook’s bundle?',
    body:
      `A bundle link lets anyone download the bundle of run ${run.runId} (${run.bundleHash}) from the provider at ` +
      `${run.endpoint}: the notebook as it was run, its environment files and the data files packed with it (not its ` +
      'outputs). Whoever opens the link checks every byte against that hash. Publishing cannot be undone.',
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Publish and copy' })],
    defaultButton: 0
  });
  if (!answer.button.accept) {
    return null;
  }
  const client = new AgentClient({ endpoint: run.endpoint, signer: await chain.signer() });
  try {
    await client.login();
    await client.publishBundle(run.bundleHash);
  } catch (e) {
    Notification.error(`Publishing the bundle failed: ${(e as Error).message}`, { autoClose: false });
    return null;
  } finally {
    client.dispose();
  }
  // The bundle lands in ain-launch/<hash8>/ with the notebook under its own name.
  const name = options.panel.context.path.split('/').pop() as string;
  const link = linkFor(
    `ain-launch/${run.bundleHash.slice(2, 10)}/${name}`,
    { kind: 'bundle', bundleHash: run.bundleHash, agentUrl: run.endpoint },
    options.base,
    { ...options.settings, binderRepository: '' }
  );
  await Private.copy(link, 'Bundle launch link');
  return link;
}

/**
 * Publishes the latest run's evidence at its provider (after saying what that means): anyone holding the notebook
 * can then read the outputs of every step and the artifacts the receipts committed to, and verify the run at every
 * level without the client's key. Logging in to the provider needs the run client's wallet.
 */
export async function publishRunEvidence(options: ICopyOptions, chain: IAinChain): Promise<boolean> {
  const run = Private.requireRun(options.panel);
  if (!run) {
    return false;
  }
  const answer = await showDialog({
    title: 'Publish this run’s evidence?',
    body:
      `The provider at ${run.endpoint} keeps what run ${run.runId} produced beyond this notebook: the outputs of ` +
      'every executed step (also those a later run of the cell replaced) and the files its receipts committed to ' +
      '(models, results). Publishing lets anyone read them, so that whoever has this notebook can reproduce it, check ' +
      'its checkpoints and recompute its objectives. Publishing cannot be undone.',
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Publish' })],
    defaultButton: 0
  });
  if (!answer.button.accept) {
    return false;
  }
  const client = new AgentClient({ endpoint: run.endpoint, signer: await chain.signer() });
  try {
    await client.login();
    await client.publishRun(run.runId);
  } catch (e) {
    Notification.error(`Publishing the run failed: ${(e as Error).message}`, { autoClose: false });
    return false;
  } finally {
    client.dispose();
  }
  Notification.success(
    `Run ${run.runId.slice(0, 10)}… is published: anyone with this notebook can now verify it at every level.`,
    { autoClose: 8000 }
  );
  return true;
}

namespace Private {
  export function requireRun(panel: NotebookPanel): IAinRunRecord | null {
    const run = latestRun(panel);
    if (!run) {
      Notification.warning(
        `${panel.context.path} has no AI Network run yet (its metadata.ain records none), so there is nothing to ` +
          'link to: run it with “Run on AI Network” first, save it, then copy its launch link.',
        { autoClose: 10_000 }
      );
    }
    return run;
  }

  /** The Clipboard API where the page may use it (a secure context), else JupyterLab's execCommand fallback. */
  export async function copy(text: string, what: string): Promise<void> {
    let copied = false;
    try {
      if (window.isSecureContext && navigator.clipboard) {
        await navigator.clipboard.writeText(text);
        copied = true;
      }
    } catch {
      // refused (permissions, focus): fall back below
    }
    if (!copied) {
      Clipboard.copyToSystem(text);
    }
    // The text itself is shown too, so it can be copied by hand if the browser refused both ways.
    Notification.success(`${what} copied: ${text}`, { autoClose: 8000 });
  }
}
