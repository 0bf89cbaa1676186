/**
 * IEvidenceSource in Node: where `ain verify` finds what the provider claimed beyond the notebook's saved outputs.
 *
 * - claimedOutputs: the outputs the agent kept with each receipt: GET /runs/{id}/receipts when the verifier holds
 *   the client's key, else the published run's GET /runs/{id}/public/receipts (the client published it);
 * - artifact(sha256): a local folder (`--artifacts DIR`, files named by the artifact's path or by its sha256, with
 *   or without 0x) first, then the agent's GET /artifacts/{sha256} (the client's key), then the published run's.
 *
 * Nothing here is trusted: the engine accepts outputs only when they hash to the receipt's outputHash with the
 * run's salt, and artifacts only when their bytes hash to the sha256 a receipt committed to.
 */
import { promises as fs } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { IAgentReceipt } from '../chain/agent-client.js';
import { AgentClient } from '../chain/agent-client.js';
import { publishedArtifact, publishedReceipts } from '../chain/published-runs.js';
import type { IAinNotebookEvidence } from '../core/evidence.js';
import type { Hex32 } from '../core/hash.js';
import type { NbOutput } from '../core/outputs-normalize.js';
import type { IEvidenceSource } from '../core/verification.js';

export interface INodeEvidenceSourceOptions {
  evidence: IAinNotebookEvidence;
  /** A logged-in client of the run's agent, when the verifier is the run's client. */
  agent?: AgentClient | null;
  /** A folder of artifacts. */
  artifactsDir?: string;
  /** Says why a source could not be used (once per cause). */
  onNote?: (note: string) => void;
}

/** Claimed outputs and artifacts from the agent and a local folder. */
export class NodeEvidenceSource implements IEvidenceSource {
  private readonly receipts = new Map<Hex32, Promise<IAgentReceipt[] | null>>();
  private readonly notes = new Set<string>();

  constructor(private readonly options: INodeEvidenceSourceOptions) {}

  async claimedOutputs(runId: Hex32, step: number): Promise<NbOutput[] | null> {
    const agent = this.options.agent;
    const endpoint = this.endpointOf(runId);
    let pending = this.receipts.get(runId);
    if (!pending) {
      pending = (
        agent ? agent.receipts(runId) : endpoint ? this.published(runId, endpoint) : Promise.resolve(null)
      ).catch(e => {
        this.note(`The agent's receipts could not be read: ${(e as Error).message}`);
        return null;
      });
      this.receipts.set(runId, pending);
    }
    const list = await pending;
    const found = list?.find(r => r.signed.receipt.step === step);
    return (found?.outputs as NbOutput[] | undefined) ?? null;
  }

  async artifact(sha256: Hex32): Promise<Uint8Array | null> {
    const local = await this.localArtifact(sha256);
    if (local) {
      return local;
    }
    if (this.options.agent) {
      try {
        return await this.options.agent.artifact(sha256);
      } catch (e) {
        this.note(`The agent did not give artifact ${sha256}: ${(e as Error).message}`);
        return null;
      }
    }
    // The published runs whose receipts committed to it.
    const runs = new Set(
      this.options.evidence.receipts
        .filter(r => (r.artifacts ?? []).some(a => a.sha256.toLowerCase() === sha256.toLowerCase()))
        .map(r => r.runId)
    );
    for (const runId of runs) {
      const endpoint = this.endpointOf(runId);
      try {
        const bytes = endpoint ? await publishedArtifact(endpoint, runId, sha256) : null;
        if (bytes) {
          return bytes;
        }
        this.note(this.unpublished(runId, endpoint));
      } catch (e) {
        this.note(`The agent did not give artifact ${sha256}: ${(e as Error).message}`);
      }
    }
    return null;
  }

  /** The published run's receipts, or null (with a note saying how to get them) when it is not published. */
  private async published(runId: Hex32, endpoint: string): Promise<IAgentReceipt[] | null> {
    const receipts = await publishedReceipts(endpoint, runId);
    if (!receipts) {
      this.note(this.unpublished(runId, endpoint));
    }
    return receipts;
  }

  private unpublished(runId: Hex32, endpoint: string | undefined): string {
    return (
      `Run ${runId} is not published at ${endpoint ?? 'its agent'}: only its client reads what the notebook lacks ` +
      '(give its key with --key-file, or ask it to publish the run: "Publish run evidence" in JupyterLab), or pass ' +
      '--artifacts DIR.'
    );
  }

  private endpointOf(runId: Hex32): string | undefined {
    return this.options.evidence.runs.find(r => r.runId === runId)?.endpoint;
  }

  /** The artifact from `--artifacts DIR`: by the paths receipts gave it, then by its hash as the file name. */
  private async localArtifact(sha256: Hex32): Promise<Uint8Array | null> {
    const dir = this.options.artifactsDir;
    if (!dir) {
      return null;
    }
    const root = resolve(dir);
    const paths = new Set<string>();
    for (const r of this.options.evidence.receipts) {
      for (const a of r.artifacts ?? []) {
        if (a.sha256.toLowerCase() === sha256.toLowerCase()) {
          paths.add(a.path);
        }
      }
    }
    const hex = sha256.toLowerCase().replace(/^0x/, '');
    for (const name of [...paths, hex, `0x${hex}`]) {
      const file = resolve(root, name);
      if (!file.startsWith(root + sep)) {
        continue;
      }
      try {
        return new Uint8Array(await fs.readFile(join(file)));
      } catch {
        // not under this name
      }
    }
    return null;
  }

  private note(text: string): void {
    if (!this.notes.has(text)) {
      this.notes.add(text);
      this.options.onNote?.(text);
    }
  }
}
