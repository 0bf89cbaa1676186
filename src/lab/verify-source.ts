/**
 * IEvidenceSource in the browser: what the provider claimed beyond the notebook's saved outputs, read from the
 * provider agent of the run — the outputs of every step (GET /runs/{id}/receipts) and the artifacts by hash
 * (GET /artifacts/{sha256}). The agent answers those only to the run's client; anyone else (a shared notebook's
 * reader) reads them from the published run (GET /runs/{id}/public/...) when its client published it, and
 * otherwise gets null for both: the verifier then falls back to the notebook's own outputs (its latest steps) and
 * says which steps it could not check. Nothing read here is trusted: the core checks outputs against the
 * receipts' outputHash and artifacts against their sha256.
 */
import type { IAgentReceipt } from '../chain/agent-client.js';
import { publishedArtifact, publishedReceipts } from '../chain/published-runs.js';
import type { IAinRunRecord } from '../core/evidence.js';
import type { Hex32 } from '../core/hash.js';
import type { NbOutput } from '../core/outputs-normalize.js';
import type { IEvidenceSource } from '../core/verification.js';

/** The two reads of the agent client used here. */
export interface IAgentReads {
  receipts(runId: Hex32): Promise<IAgentReceipt[]>;
  artifact(sha256: Hex32): Promise<Uint8Array | null>;
}

/** Claimed outputs and artifacts from the run's provider agent. */
export class AgentEvidenceSource implements IEvidenceSource {
  /**
   * @param agent - resolves to a logged-in client of the run's provider; a rejection (not the run's client,
   *   provider gone) makes this source answer null, and `problem` says why.
   */
  constructor(
    private readonly _agent: () => Promise<IAgentReads>,
    /** The published run's reads, tried when the client's are refused (a receipts read that fails: not published). */
    private readonly _published?: IAgentReads
  ) {}

  /** Why the agent could not be read, once it was tried (for the report's summary), else null. */
  get problem(): string | null {
    return this._problem;
  }

  async claimedOutputs(runId: Hex32, step: number): Promise<NbOutput[] | null> {
    const receipts = await this.receipts(runId);
    const found = receipts?.find(r => r.signed.receipt.step === step);
    return Array.isArray(found?.outputs) ? (found.outputs as NbOutput[]) : null;
  }

  async artifact(sha256: Hex32): Promise<Uint8Array | null> {
    return this.read(reads => reads.artifact(sha256));
  }

  /** The run's receipts, read once per run. */
  private receipts(runId: Hex32): Promise<IAgentReceipt[] | null> {
    let cached = this._receipts.get(runId);
    if (!cached) {
      cached = this.read(reads => reads.receipts(runId));
      this._receipts.set(runId, cached);
    }
    return cached;
  }

  /** The client's read, else the published run's; null (and `problem` says why) when neither answers. */
  private async read<T>(f: (reads: IAgentReads) => Promise<T | null>): Promise<T | null> {
    let problem: unknown = null;
    const agent = await this.agent();
    if (agent) {
      try {
        return await f(agent);
      } catch (e) {
        problem = e;
      }
    }
    if (this._published) {
      try {
        return await f(this._published);
      } catch (e) {
        problem ??= e;
      }
    }
    this.note(problem ?? this._clientProblem);
    return null;
  }

  private agent(): Promise<IAgentReads | null> {
    this._client ??= this._agent().catch(e => {
      this._clientProblem = e;
      return null;
    });
    return this._client;
  }

  private note(e: unknown): void {
    if (e !== null && e !== undefined) {
      this._problem ??= e instanceof Error ? e.message : String(e);
    }
  }

  private _client: Promise<IAgentReads | null> | null = null;
  private readonly _receipts = new Map<Hex32, Promise<IAgentReceipt[] | null>>();
  private _problem: string | null = null;
  private _clientProblem: unknown = null;
}

/** The reads of `run` as published at its provider (nothing needs a login); a receipts read fails when unpublished. */
export function publishedReads(run: IAinRunRecord): IAgentReads {
  return {
    receipts: async runId => {
      const receipts = await publishedReceipts(run.endpoint, runId);
      if (!receipts) {
        throw new Error(
          `only the run's client may read its evidence at ${run.endpoint}, and the run is not published there ` +
            '(its client can publish it: "Publish Run Evidence")'
        );
      }
      return receipts;
    },
    artifact: sha256 => publishedArtifact(run.endpoint, run.runId, sha256)
  };
}
