/**
 * What the launch confirmation tells the user before anything runs: whose notebook this is and where it comes
 * from, read from the chain and the provider rather than from the link (a link is anyone's words). For a run link:
 * the run's client (who wrote and paid for it), its provider, its on-chain state, and whether the notebook carries
 * that run's receipts. For a bundle link: the bundle's hash (already checked file by file), the agent it came from,
 * the provider behind that agent, and the clients who ran that bundle there.
 */
import { Contract, EventLog } from 'ethers';
import type { IAinNotebookEvidence } from '../core/evidence.js';
import type { Hex32 } from '../core/hash.js';
import type { ILaunchBundle, ILaunchRun } from '../core/launch-link.js';
import { RUN_REGISTRY_ABI } from '../chain/abi.js';
import type { IChainConfig } from '../chain/config.js';
import { ProviderRegistryClient } from '../chain/provider-registry.js';
import { RunRegistryClient } from '../chain/run-registry.js';
import { ChainSession } from '../chain/session.js';
import { probeAgent } from './agent-client.js';
import { errorMessage } from './errors.js';
import { pageUrl } from './page-url.js';
import type { IFetchedBundle } from './launch-worker-api.js';
import type { IUnpackedBundle } from './launch-bundle.js';

/** What the confirmation shows. */
export interface ILaunchFacts {
  notebookPath: string;
  /** Label and value rows, in order. */
  rows: [string, string][];
  /** The provider as people read it ("dev-provider-1 (0x…)"), or null when unknown. */
  provider: string | null;
  /** Cautions: what could not be checked, what does not match. */
  notes: string[];
  /** Whether the notebook carries receipts to compare a reproduction with. */
  canReproduce: boolean;
}

/** Facts of an `ain-run=` link whose notebook is open at `path`. */
export async function runLinkFacts(options: {
  config: IChainConfig;
  target: ILaunchRun;
  path: string;
  evidence: IAinNotebookEvidence;
  notebookHash: Hex32 | null;
}): Promise<ILaunchFacts> {
  const { config, target, path, evidence } = options;
  const rows: [string, string][] = [
    ['Notebook', path],
    ['Run', `${target.runId} on chain ${target.chainId}`]
  ];
  const notes: string[] = [];
  const record = evidence.runs.find(r => r.runId === target.runId);
  let provider: string | null = null;
  const session = await ChainSession.connect(config).catch(e => {
    notes.push(
      `Could not read chain ${config.chainId} at ${config.rpcUrl} (${errorMessage(e)}): nothing below is checked on-chain.`
    );
    return null;
  });
  try {
    const run = session ? await new RunRegistryClient(session).getRun(target.runId) : null;
    if (run && run.status === 'none') {
      notes.push(
        `Run ${target.runId} does not exist on chain ${config.chainId} (RunRegistry ${config.contracts.runRegistry}): ` +
          'the link is wrong, or it belongs to another deployment of the contracts.'
      );
    } else if (run) {
      rows.push(['Author', `${run.client} (opened and paid for the run)`]);
      // The registry's endpoint first: the notebook's record of it is anyone's words.
      const registered = await new ProviderRegistryClient(session!).getProvider(run.provider).then(
        p => pageUrl(p.endpoint),
        () => ''
      );
      const endpoint = registered || record?.endpoint || '';
      provider = await Private.providerLabel(run.provider, endpoint);
      rows.push(['Provider', `${provider}${endpoint ? `, ${endpoint}` : ''}`]);
      rows.push([
        'On-chain',
        `${run.status}; ${run.receiptCount} receipts in ${run.checkpointCount} anchored checkpoints`
      ]);
      if (record && record.bundleHash !== run.bundleHash) {
        notes.push(
          `The notebook's record of this run names bundle ${record.bundleHash}, the chain ${run.bundleHash}: ` +
            'the notebook’s evidence was altered or belongs to another run.'
        );
      }
    }
  } finally {
    session?.close();
  }
  const receipts = evidence.receipts.filter(r => r.runId === target.runId).length;
  if (!record || receipts === 0) {
    notes.push(
      'This notebook does not carry the receipts of that run (metadata.ain): Reproduce has nothing to compare ' +
        'with. Run on AI Network runs it afresh.'
    );
  } else {
    rows.push(['Evidence', `${receipts} signed receipts of this run in the notebook`]);
    if (options.notebookHash && record.notebookHash && record.notebookHash !== options.notebookHash) {
      notes.push(
        'The notebook was edited since that run (its hash no longer matches the run’s): edited cells show as stale.'
      );
    }
  }
  return { notebookPath: path, rows, provider, notes, canReproduce: !!record && receipts > 0 };
}

/** Facts of an `ain-bundle=` link whose bundle was checked and unpacked. */
export async function bundleLinkFacts(options: {
  config: IChainConfig | null;
  target: ILaunchBundle;
  bundle: IFetchedBundle;
  unpacked: IUnpackedBundle;
  evidence: IAinNotebookEvidence;
}): Promise<ILaunchFacts> {
  const { config, target, bundle, unpacked } = options;
  const env = bundle.manifest.environment;
  const rows: [string, string][] = [
    [
      'Notebook',
      unpacked.reused
        ? `${unpacked.notebookPath} (this bundle was already there: your copy is opened, not overwritten)`
        : `${unpacked.notebookPath} (written with ${Object.keys(bundle.files).length - 1} more files)`
    ],
    ['Bundle', `${bundle.bundleHash} (checked: every file’s SHA-256 and the manifest)`],
    ['From', target.agentUrl],
    ['Environment', `${env.kind}${env.files.length ? ` (${env.files.join(', ')})` : ''}`]
  ];
  const notes: string[] = [];
  if (env.refused.length) {
    notes.push(
      `A provider will refuse parts of this environment: ${env.refused.map(r => `${r.file} (${r.rule})`).join(', ')}.`
    );
  }
  const info = await Private.agentInfo(target.agentUrl);
  let provider: string | null = null;
  if (!info) {
    notes.push(`The agent at ${target.agentUrl} did not say which provider it is (GET /info failed).`);
  } else {
    provider = await Private.providerLabel(info.provider, target.agentUrl);
    rows.push(['Provider', `${provider}, chain ${info.chainId}`]);
    if (!config) {
      notes.push(
        'AI Network is not configured in this JupyterLab (Settings › AI Network): the authors are unchecked.'
      );
    } else if (info.chainId !== config.chainId) {
      notes.push(
        `That agent serves chain ${info.chainId}, but this JupyterLab is configured for chain ${config.chainId}: ` +
          'the authors are unchecked, and running there needs that chain’s settings.'
      );
    } else {
      const clients = await Private.clientsOfBundle(config, info.provider, bundle.bundleHash).catch(e => {
        notes.push(`Could not read the runs of this bundle on-chain (${errorMessage(e)}).`);
        return null;
      });
      if (clients && clients.length) {
        rows.push(['Author', `${clients.join(', ')} (opened runs of this bundle there)`]);
      } else if (clients) {
        notes.push(
          `No run of this bundle at that provider on chain ${config.chainId}: nothing says who wrote it.`
        );
      }
    }
  }
  const canReproduce = options.evidence.receipts.length > 0;
  if (!canReproduce) {
    notes.push('The notebook carries no receipts (metadata.ain): Reproduce has nothing to compare with.');
  }
  return { notebookPath: unpacked.notebookPath, rows, provider, notes, canReproduce };
}

namespace Private {
  /** "dev-provider-1 (0x…)" when the agent names itself, else the address. */
  export async function providerLabel(address: string, endpoint: string): Promise<string> {
    if (!endpoint) {
      return address;
    }
    const probe = await probeAgent(endpoint);
    const name = probe.capabilities?.name;
    return typeof name === 'string' && name ? `${name} (${address})` : address;
  }

  export async function agentInfo(agentUrl: string): Promise<{ provider: string; chainId: number } | null> {
    try {
      const res = await fetch(`${agentUrl}/info`, { signal: AbortSignal.timeout(5000) });
      const info = (await res.json()) as { provider?: unknown; chainId?: unknown };
      return res.ok && typeof info.provider === 'string' && typeof info.chainId === 'number'
        ? { provider: info.provider, chainId: info.chainId }
        : null;
    } catch {
      return null;
    }
  }

  /** The clients of the runs of `bundleHash` at `provider` (RunOpened events; bundleHash is not indexed). */
  export async function clientsOfBundle(
    config: IChainConfig,
    provider: string,
    bundleHash: Hex32
  ): Promise<string[]> {
    const session = await ChainSession.connect(config);
    try {
      const registry = new Contract(config.contracts.runRegistry, RUN_REGISTRY_ABI, session.provider);
      const logs = await registry.queryFilter(
        registry.filters.RunOpened(null, null, provider),
        config.deploymentBlock
      );
      const clients = logs
        .filter(
          (l): l is EventLog =>
            l instanceof EventLog && String(l.args.bundleHash).toLowerCase() === bundleHash
        )
        .map(l => String(l.args.client));
      return [...new Set(clients)];
    } finally {
      session.close();
    }
  }
}
