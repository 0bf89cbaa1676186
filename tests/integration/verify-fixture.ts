/**
 * Shared set-up of the `ain verify` / `ain challenge` specs: a real anvil with the contracts, real provider agents
 * (`node bin/ain.js provider start`, honest or with a dev --fault), and notebooks run on them the way the
 * extension runs them — bundle, run opened on-chain by the client with its sampling secret, EIP-4361 login,
 * cells driven through /runs/{id}/jupyter with @jupyterlab/services (outputs collected as JupyterLab saves them),
 * receipts and equivocations taken from the run's events, checkpoints from the chain — saved as an .ipynb whose
 * metadata.ain carries the evidence. Environments come from the shared ENV_CACHE, so only a first run builds.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { KernelManager, KernelMessage } from '@jupyterlab/services';
import { createBundle } from '../../src/core/bundle-writer';
import type {
  IAinEquivocationRecord,
  IAinNotebookEvidence,
  IAinReceiptRecord,
  IAinRunRecord
} from '../../src/core/evidence';
import { Hex32 } from '../../src/core/hash';
import { OutputCollector } from '../../src/core/kernel-outputs';
import { notebookHash } from '../../src/core/notebook';
import type { ISignedReceipt } from '../../src/core/receipt';
import { nodeServerSettings } from '../../src/cli/jupyter-settings';
import { IActor, IChainFixture, TOKEN, random32, startChainFixture } from './chain-fixture';
import { PRICE, call, login, readSse, waitFor } from './agent-service-fixture';
import { ENV_CACHE } from './agent-kernel-fixture';
import { IAgentProcess, startAgentProcess } from './cli-process-fixture';

export interface ITestProvider {
  address: string;
  url: string;
  agent: IAgentProcess;
}

export interface IVerifyWorld {
  chain: IChainFixture;
  dir: string;
  deploymentFile: string;
  /** Starts a provider agent for development account `account` (6-9 are free), honest or with `fault`. */
  startProvider(account: number, fault?: string, args?: string[]): Promise<ITestProvider>;
}

export async function startVerifyWorld(dir: string): Promise<IVerifyWorld> {
  const chain = await startChainFixture();
  const deploymentFile = path.join(dir, 'deployment.json');
  writeFileSync(deploymentFile, JSON.stringify(chain.deployment));
  mkdirSync(ENV_CACHE, { recursive: true });
  return {
    chain,
    dir,
    deploymentFile,
    async startProvider(account, fault, args = []) {
      const actor = await chain.actor(account);
      await chain.deployer.token.faucet(actor.address, TOKEN(10000));
      const dataDir = mkdtempSync(path.join(dir, `provider-${account}-`));
      // The agent caches environments in <data>/environments: the suite's shared cache, built once.
      symlinkSync(ENV_CACHE, path.join(dataDir, 'environments'));
      const agent = await startAgentProcess([
        ...['--deployment', deploymentFile, '--dev-account', String(account), '--port', '0'],
        ...['--data-dir', dataDir, '--price', '3600', '--log-level', 'warn'],
        ...['--checkpoint-receipts', '2', '--checkpoint-seconds', '0'],
        ...(fault ? ['--fault', fault] : []),
        ...args
      ]);
      return { address: actor.address, url: agent.url, agent };
    }
  };
}

/** A data folder for `ain verify --data-dir` whose environments are the shared cache. */
export function verifierDataDir(world: IVerifyWorld): string {
  const dataDir = mkdtempSync(path.join(world.dir, 'verifier-'));
  symlinkSync(ENV_CACHE, path.join(dataDir, 'environments'));
  return dataDir;
}

export interface ICell {
  source: string;
  tags?: string[];
}

export interface IRanNotebook {
  /** The saved notebook with outputs and metadata.ain. */
  file: string;
  runId: Hex32;
  /** The run's bundle, as the provider received it. */
  bundleFile: string;
  secret: Hex32;
  evidence: IAinNotebookEvidence;
  token: string;
  /** Time of the cells' execution on the provider (kernel ready to last reply), and of the whole run. */
  executeMs: number;
  totalMs: number;
}

/**
 * Runs `cells` on `provider` as `client` (default the fixture's client) and saves the notebook with its evidence.
 * `files` are data files beside the notebook, bundled with it (as `ain pack --data` does).
 */
export async function runNotebook(
  world: IVerifyWorld,
  provider: ITestProvider,
  cells: ICell[],
  options: { name?: string; files?: Record<string, string>; client?: IActor } = {}
): Promise<IRanNotebook> {
  const started = Date.now();
  const client = options.client ?? world.chain.client;
  const folder = mkdtempSync(path.join(world.dir, 'notebook-'));
  const name = options.name ?? 'analysis.ipynb';
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      language_info: { name: 'python' }
    } as Record<string, unknown>,
    cells: cells.map((c, i) => ({
      cell_type: 'code',
      id: `cell-${i}`,
      metadata: c.tags ? { tags: c.tags } : {},
      execution_count: null as number | null,
      outputs: [] as unknown[],
      source: c.source
    }))
  };
  const encoder = new TextEncoder();
  const files = new Map<string, Uint8Array>([[name, encoder.encode(JSON.stringify(notebook, null, 1))]]);
  for (const [p, text] of Object.entries(options.files ?? {})) {
    mkdirSync(path.dirname(path.join(folder, p)), { recursive: true });
    writeFileSync(path.join(folder, p), text);
    files.set(p, encoder.encode(text));
  }
  const bundle = createBundle({ notebookPath: name, files });
  const secret = random32();
  const nonce = BigInt(random32()) & ((1n << 64n) - 1n);
  const escrow = TOKEN(900);
  const { runId, blockNumber: openedBlock } = await client.runs.openRun({
    provider: provider.address,
    bundleHash: bundle.bundleHash,
    nonce,
    samplingSecret: secret,
    escrow,
    pricePerHour: PRICE
  });
  const openedAt = new Date().toISOString();
  const token = await login(provider.url, client.key);
  const created = await call(provider.url, 'POST', `/runs?runId=${runId}`, { token, body: bundle.bytes });
  expect(created.status).toBe(201);
  await waitFor(
    async () => (await call(provider.url, 'GET', `/runs/${runId}`, { token })).json.state === 'running',
    300_000,
    "the run's kernel"
  );

  const executeStarted = Date.now();
  await executeCells(provider.url, runId, token, notebook.cells);
  const executeMs = Date.now() - executeStarted;

  // Every receipt stored, then anchored: the rest after the last automatic checkpoint, on request.
  await waitFor(
    async () =>
      (await call(provider.url, 'GET', `/runs/${runId}/receipts`, { token })).json.receipts.length ===
      cells.length,
    30_000,
    'the receipts'
  );
  if ((await client.runs.getRun(runId)).receiptCount < cells.length) {
    await call(provider.url, 'POST', `/runs/${runId}/anchor`, { token });
  }
  await waitFor(
    async () => (await client.runs.getRun(runId)).receiptCount === cells.length,
    60_000,
    'the last checkpoint'
  );

  const evidence = await collectEvidence(world, provider, client, runId, token, {
    bundleHash: bundle.bundleHash,
    notebookHash: notebookHash(notebook),
    escrow: escrow.toString(),
    openedAt,
    openedBlock
  });
  notebook.metadata.ain = evidence;
  const file = path.join(folder, name);
  writeFileSync(file, JSON.stringify(notebook, null, 1) + '\n');
  const bundleFile = path.join(world.dir, `bundle-${runId.slice(2, 10)}.ainb`);
  writeFileSync(bundleFile, bundle.bytes);
  return { file, runId, bundleFile, secret, evidence, token, executeMs, totalMs: Date.now() - started };
}

/** Executes the cells in a fresh kernel of the run, as JupyterLab does (cell ids in the request metadata). */
async function executeCells(
  url: string,
  runId: Hex32,
  token: string,
  cells: { id: string; source: string; outputs: unknown[]; execution_count: number | null }[]
): Promise<void> {
  const base = `${url}/runs/${runId}/jupyter/`;
  const manager = new KernelManager({
    serverSettings: nodeServerSettings(base, token)
  });
  try {
    const kernel = await manager.startNew({ name: 'python3' });
    await kernel.info;
    for (const cell of cells) {
      const collector = new OutputCollector();
      const future = kernel.requestExecute({ code: cell.source }, false, { cellId: cell.id });
      future.onIOPub = (msg: KernelMessage.IIOPubMessage) => void collector.iopub(msg);
      const reply = await future.done;
      collector.executeReply(reply.content);
      cell.outputs = collector.outputs;
      cell.execution_count = (reply.content as { execution_count?: number }).execution_count ?? null;
    }
    await kernel.shutdown();
  } finally {
    manager.dispose();
  }
}

/** metadata.ain of a run as the extension records it: run record with salt, receipts, checkpoints, equivocations. */
async function collectEvidence(
  world: IVerifyWorld,
  provider: ITestProvider,
  client: IActor,
  runId: Hex32,
  token: string,
  known: Pick<IAinRunRecord, 'bundleHash' | 'notebookHash' | 'escrow' | 'openedAt' | 'openedBlock'>
): Promise<IAinNotebookEvidence> {
  const agentRun = (await call(provider.url, 'GET', `/runs/${runId}`, { token })).json;
  const events = await readSse(`${provider.url}/runs/${runId}/events?follow=false`, token);
  const receipts: IAinReceiptRecord[] = [];
  const equivocations: IAinEquivocationRecord[] = [];
  for (const e of events.filter(x => x.event === 'receipt')) {
    const d = e.data.data as { receipt: ISignedReceipt; digest: Hex32; cellId?: string; artifacts?: [] };
    if ((e.data.data as { equivocation?: boolean }).equivocation) {
      const first = receipts.find(r => r.signed.receipt.step === d.receipt.receipt.step);
      equivocations.push({ runId, step: d.receipt.receipt.step, a: first!.signed, b: d.receipt });
      continue;
    }
    receipts.push({
      runId,
      ...(d.cellId ? { cellId: d.cellId } : {}),
      signed: d.receipt,
      digest: d.digest,
      artifacts: d.artifacts ?? []
    });
  }
  const checkpoints = (await client.runs.checkpoints(runId)).map(c => ({ ...c, runId }));
  const run: IAinRunRecord = {
    chainId: world.chain.deployment.chainId,
    runRegistry: world.chain.deployment.contracts.runRegistry,
    runId,
    provider: provider.address,
    endpoint: provider.url,
    ...known,
    pricePerHour: PRICE.toString(),
    state: 'running',
    salt: agentRun.salt
  };
  return {
    version: 1,
    runs: [run],
    receipts,
    checkpoints,
    verifications: [],
    ...(equivocations.length ? { equivocations } : {})
  };
}
