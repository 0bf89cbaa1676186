/**
 * Shared set-up of the example verification specs: a client that runs an example notebook on a provider agent
 * (`ain provider start` as a child process, cli-process-fixture) as JupyterLab would — a bundle of the notebook's
 * folder, the run opened on-chain, a login, cells sent through /runs/{id}/jupyter with their cell ids and tags —
 * and then writes what a saved copy carries: the outputs the client saw and metadata.ain (the run with its salt,
 * every receipt with its artifacts, the anchored checkpoints). No mocks.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { KernelManager, KernelMessage } from '@jupyterlab/services';
import type { JSONObject } from '@lumino/coreutils';
import { createBundle, Bundle } from '../../src/core/bundle-writer';
import { IAinNotebookEvidence, IAinReceiptRecord, emptyEvidence } from '../../src/core/evidence';
import { Hex32 } from '../../src/core/hash';
import { OutputCollector } from '../../src/core/kernel-outputs';
import { codeHash, notebookHash } from '../../src/core/notebook';
import type { NbOutput } from '../../src/core/outputs-normalize';
import { AgentClient, IAgentReceipt } from '../../src/chain/agent-client';
import { nodeServerSettings } from '../../src/cli/jupyter-settings';
import { IActor, TOKEN, random32 } from './chain-fixture';
import { PRICE, waitFor } from './agent-service-fixture';
import { ENV_CACHE } from './agent-kernel-fixture';
import { ROOT } from './cli-process-fixture';

export const ROOT_EXAMPLES = path.join(ROOT, 'examples');
export const TRAIN_NOTEBOOK = path.join(ROOT_EXAMPLES, 'train-classifier', 'train-classifier.ipynb');

/* eslint-disable @typescript-eslint/no-explicit-any -- notebooks are plain JSON read loosely here */

/** A code cell of a notebook file, by its id. */
export function cellById(notebook: any, id: string): any {
  const cell = notebook.cells.find((c: any) => c.id === id);
  if (!cell) {
    throw new Error(`no cell ${id} in the notebook`);
  }
  return cell;
}

/** The bundle JupyterLab makes of an example: the notebook and the environment files of its folder. */
export function exampleBundle(notebookFile: string): { notebook: any; bundle: Bundle } {
  const folder = path.dirname(notebookFile);
  const name = path.basename(notebookFile);
  const files = new Map<string, Uint8Array>([[name, readFileSync(notebookFile)]]);
  if (existsSync(path.join(folder, 'requirements.txt'))) {
    files.set('requirements.txt', readFileSync(path.join(folder, 'requirements.txt')));
  }
  return {
    notebook: JSON.parse(readFileSync(notebookFile, 'utf8')),
    bundle: createBundle({ notebookPath: name, files })
  };
}

/**
 * A data folder whose `environments` is the shared test environment cache (agent-kernel-fixture ENV_CACHE), so
 * that scikit-learn is built once per machine, not once per test run: the agent (`--data-dir`) and the local
 * verifier (`<dataDir>/environments`) both keep their uv environments there.
 */
export function dataDirWithSharedEnvironments(dir: string): string {
  mkdirSync(dir, { recursive: true });
  mkdirSync(ENV_CACHE, { recursive: true });
  symlinkSync(ENV_CACHE, path.join(dir, 'environments'));
  return dir;
}

/** One execution of the run: a notebook cell (by id), or code that is no cell of the notebook. */
export type Step = { cell: string } | { code: string; why: string };

/** A finished run of a notebook, with what a saved copy of it would carry. */
export interface IProviderRun {
  runId: Hex32;
  /** The notebook with the outputs the client saw (each cell's latest execution) and metadata.ain. */
  notebook: any;
  evidence: IAinNotebookEvidence;
  receipts: IAgentReceipt[];
  agent: AgentClient;
}

/**
 * Runs `steps` of `notebookFile` on the provider at `url` as `client`: opens the run on-chain, uploads the bundle,
 * executes each step in one kernel (cells with their id and tags as JupyterLab sends them), stops the run, waits
 * until every receipt is anchored, and returns the notebook as the client would save it.
 */
export async function runOnProvider(o: {
  url: string;
  client: IActor;
  provider: string;
  notebookFile: string;
  steps: Step[];
}): Promise<IProviderRun> {
  const { notebook, bundle } = exampleBundle(o.notebookFile);
  const samplingSecret = random32();
  const opened = await o.client.runs.openRun({
    provider: o.provider,
    bundleHash: bundle.bundleHash,
    nonce: BigInt(random32()) & ((1n << 64n) - 1n),
    samplingSecret,
    escrow: TOKEN(900),
    pricePerHour: PRICE
  });
  const openedAt = new Date().toISOString();
  const agent = new AgentClient({ endpoint: o.url, signer: o.client.session.requireSigner() });
  await agent.login();
  const created = await agent.createRun(opened.runId, bundle.bytes);
  await waitFor(
    async () => {
      const run = await agent.getRun(opened.runId);
      if (run.state === 'failed') {
        throw new Error(`the run failed: ${run.reason}`);
      }
      return run.state === 'running';
    },
    300_000,
    'the run environment and kernel'
  );
  const base = `${o.url}/runs/${opened.runId}/jupyter/`;
  const manager = new KernelManager({
    serverSettings: nodeServerSettings(base, agent.token!)
  });
  const latest = new Map<string, { outputs: NbOutput[]; count: number | null }>();
  const cellIds: (string | undefined)[] = [];
  try {
    const kernel = await manager.startNew({ name: 'python3' });
    await kernel.info;
    for (const step of o.steps) {
      const cell = 'cell' in step ? cellById(notebook, step.cell) : undefined;
      const code = cell ? [cell.source].flat().join('') : (step as { code: string }).code;
      const metadata: JSONObject = cell ? { cellId: cell.id, tags: cell.metadata.tags ?? [] } : {};
      const collector = new OutputCollector();
      const future = kernel.requestExecute({ code }, false, metadata);
      future.onIOPub = (msg: KernelMessage.IIOPubMessage) => void collector.iopub(msg);
      const reply = await future.done;
      collector.executeReply(reply.content);
      if (reply.content.status !== 'ok') {
        throw new Error(`step ${cellIds.length} failed: ${JSON.stringify(collector.outputs)}`);
      }
      cellIds.push(cell?.id);
      if (cell) {
        latest.set(cell.id, { outputs: collector.outputs, count: reply.content.execution_count ?? null });
      }
    }
    await kernel.shutdown();
  } finally {
    manager.dispose();
  }
  await agent.stopRun(opened.runId);
  const receipts = await agent.receipts(opened.runId);
  await waitFor(
    async () => (await o.client.runs.getRun(opened.runId)).receiptCount === receipts.length,
    60_000,
    'the last checkpoint on-chain'
  );
  const checkpoints = await o.client.runs.checkpoints(opened.runId);
  const evidence = emptyEvidence();
  evidence.runs.push({
    chainId: o.client.session.config.chainId,
    runRegistry: o.client.session.config.contracts.runRegistry,
    runId: opened.runId,
    provider: o.provider,
    endpoint: o.url,
    bundleHash: bundle.bundleHash,
    notebookHash: notebookHash(notebook),
    escrow: TOKEN(900).toString(),
    pricePerHour: PRICE.toString(),
    openedAt,
    openedBlock: opened.blockNumber,
    endedAt: new Date().toISOString(),
    state: 'stopped',
    salt: created.salt
  });
  evidence.receipts = receipts.map(
    (r, i): IAinReceiptRecord => ({
      runId: opened.runId,
      ...(cellIds[i] ? { cellId: cellIds[i] } : {}),
      signed: r.signed,
      digest: r.digest,
      artifacts: r.artifacts ?? []
    })
  );
  evidence.checkpoints = checkpoints.map(c => ({ ...c, runId: opened.runId }));
  const saved = JSON.parse(JSON.stringify(notebook));
  for (const cell of saved.cells) {
    const ran = latest.get(cell.id);
    if (ran) {
      cell.outputs = ran.outputs;
      cell.execution_count = ran.count;
    }
  }
  saved.metadata.ain = evidence;
  // The steps ran in order, one receipt each: step i is the i-th execution.
  o.steps.forEach((s, i) => {
    const code = 'cell' in s ? [cellById(notebook, s.cell).source].flat().join('') : s.code;
    if (receipts[i]?.signed.receipt.codeHash !== codeHash(code)) {
      throw new Error(`receipt ${i} is not of step ${i}'s code`);
    }
  });
  return { runId: opened.runId, notebook: saved, evidence, receipts, agent };
}
