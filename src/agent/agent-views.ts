/**
 * What the API shows of runs: the JSON views of runs, receipts, checkpoints and proofs, and the scoped reads of
 * bundles and artifacts. Every read takes the caller's address and shows only that client's runs (and the
 * bundles and artifacts of its runs); the per-run salt appears only in views of the client's own runs.
 */
import { promises as fs } from 'node:fs';
import { getAddress } from 'ethers';
import { makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import { ReceiptTree } from '../core/merkle.js';
import type { ProviderAgent } from './agent.js';
import { bundlePath } from './run-admission.js';
import { budgetMs } from './run-limits.js';
import type { IRunRecord } from './store-runs.js';
import type { IStoredReceipt } from './tokens.js';

/** A run as the API shows it to its client. */
export interface IRunView {
  runId: Hex32;
  client: string;
  bundleHash: Hex32;
  state: IRunRecord['state'];
  reason: string | null;
  createdAt: string;
  endedAt: string | null;
  escrow: string;
  pricePerHour: string;
  budgetEndsAt: string | null;
  salt: Hex32;
  jupyterUrl: string;
  receiptCount: number;
  anchoredCount: number;
}

/** A Merkle proof of one receipt under the latest anchored checkpoint. */
export interface IProofView {
  step: number;
  digest: Hex32;
  root: Hex32;
  receiptCount: number;
  checkpointIndex: number | null;
  txHash: string | null;
  proof: Hex32[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Views over a ProviderAgent's stores. */
export class RunViews {
  constructor(private readonly agent: ProviderAgent) {}

  /** The view of a run record. */
  run(record: IRunRecord): IRunView {
    const budget = budgetMs(record.escrow, record.pricePerHour);
    const anchored = this.agent.anchors.checkpoints(record.runId).filter(c => c.state === 'anchored');
    return {
      runId: record.runId,
      client: record.client,
      bundleHash: record.bundleHash,
      state: record.state,
      reason: record.reason,
      createdAt: iso(record.createdAt)!,
      endedAt: iso(record.endedAt),
      escrow: record.escrow.toString(),
      pricePerHour: record.pricePerHour.toString(),
      budgetEndsAt: Number.isFinite(budget) ? iso(record.createdAt + budget) : null,
      salt: record.salt,
      jupyterUrl: `/runs/${record.runId}/jupyter/`,
      receiptCount: this.agent.store.receipts(record.runId).length,
      anchoredCount: anchored.length ? anchored[anchored.length - 1].receiptCount : 0
    };
  }

  /** The receipts of a run of `client`. */
  receipts(client: string, runId: Hex32): IStoredReceipt[] {
    this.agent.runOf(client, runId);
    return this.agent.store.receipts(runId);
  }

  /** The checkpoints of a run of `client`, queued and anchored. */
  checkpoints(client: string, runId: Hex32): Record<string, unknown>[] {
    this.agent.runOf(client, runId);
    return this.agent.anchors.checkpoints(runId).map(c => ({
      index: c.index,
      receiptCount: c.receiptCount,
      root: c.root,
      reason: c.reason,
      state: c.state,
      txHash: c.txHash,
      blockNumber: c.blockNumber,
      attempts: c.attempts,
      lastError: c.lastError
    }));
  }

  /** The proof of `step` under the run's latest anchored checkpoint; AGENT_NOT_ANCHORED when it is not covered. */
  proof(client: string, runId: Hex32, step: number): IProofView {
    this.agent.runOf(client, runId);
    const receipts = this.agent.store.receipts(runId);
    if (step >= receipts.length) {
      throw makeError(
        'AGENT_NOT_FOUND',
        `Run ${runId} has no receipt for step ${step} (it has ${receipts.length}).`
      );
    }
    const anchored = this.agent.anchors.checkpoints(runId).filter(c => c.state === 'anchored');
    const latest = anchored[anchored.length - 1];
    if (!latest || step >= latest.receiptCount) {
      throw makeError(
        'AGENT_NOT_ANCHORED',
        `Step ${step} of run ${runId} is not covered by an anchored checkpoint yet; ask POST /runs/${runId}/anchor ` +
          'and try again once the "anchored" event arrives.',
        { step }
      );
    }
    const tree = new ReceiptTree(receipts.slice(0, latest.receiptCount).map(r => r.digest));
    return {
      step,
      digest: receipts[step].digest,
      root: tree.root,
      receiptCount: latest.receiptCount,
      checkpointIndex: latest.index,
      txHash: latest.txHash,
      proof: tree.proof(step)
    };
  }

  /** A stored bundle, to a client with a run of it. */
  async bundle(client: string, bundleHash: Hex32): Promise<Uint8Array> {
    const mine = this.agent.runs.list(getAddress(client)).some(r => r.bundleHash === bundleHash);
    if (!mine) {
      throw makeError(
        'AGENT_FORBIDDEN',
        'This token does not give access to that bundle; log in as a client of a run of it.'
      );
    }
    return fs.readFile(bundlePath(this.agent.options.dataDir, bundleHash));
  }

  /** An artifact, to the client of a run whose receipts commit to it. */
  artifact(client: string, sha256: Hex32): Uint8Array {
    const mine = this.agent.runs
      .list(getAddress(client))
      .some(r => this.agent.store.receipts(r.runId).some(rc => rc.artifacts.some(a => a.sha256 === sha256)));
    const bytes = mine ? this.agent.store.getArtifact(sha256) : undefined;
    if (!bytes) {
      throw makeError(
        'AGENT_FORBIDDEN',
        'This token does not give access to that artifact; log in as the client of its run.'
      );
    }
    return bytes;
  }
}
