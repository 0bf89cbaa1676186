/**
 * IEvidenceSource in the browser: what the provider claimed beyond the notebook's saved outputs, read from the
 * provider agent of the run — the outputs of every step (GET /runs/{id}/receipts) and the artifacts by hash
 * (GET /artifacts/{sha256}). The agent answers only the run's client: anyone else (a shared notebook's reader)
 * gets null for both, and the verifier falls back to the notebook's own outputs (its latest steps) and says
 * which steps it could not check. Nothing read here is trusted: the core checks outputs against the receipts'
 * outputHash and artifacts against their sha256.
 */
import type { IAgentReceipt } from '../chain/agent-client.js';
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
  constructor(private readonly _agent: () => Promise<IAgentReads>) {}

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
    const agent = await this.agent();
    if (!agent) {
      return null;
    }
    try {
      return await agent.artifact(sha256);
    } catch (e) {
      this.note(e);
      return null;
    }
  }

  /** The run's receipts, read once per run. */
  private receipts(runId: Hex32): Promise<IAgentReceipt[] | null> {
    let cached = this._receipts.get(runId);
    if (!cached) {
      cached = (async () => {
        const agent = await this.agent();
        if (!agent) {
          return null;
        }
        try {
          return await agent.receipts(runId);
        } catch (e) {
          this.note(e);
          return null;
        }
      })();
      this._receipts.set(runId, cached);
    }
    return cached;
  }

  private agent(): Promise<IAgentReads | null> {
    this._client ??= this._agent().catch(e => {
      this.note(e);
      return null;
    });
    return this._client;
  }

  private note(e: unknown): void {
    this._problem ??= e instanceof Error ? e.message : String(e);
  }

  private _client: Promise<IAgentReads | null> | null = null;
  private readonly _receipts = new Map<Hex32, Promise<IAgentReceipt[] | null>>();
  private _problem: string | null = null;
}
