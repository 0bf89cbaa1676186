/**
 * Turns finished executions into the run's chain of signed step receipts (DESIGN.md §4), one at a time and in
 * the order the executions finished: collects the cell's artifacts, hashes code and outputs, chains to the last
 * stored receipt (read from the store at start, so an agent restart continues the same chain), signs, stores, and
 * emits a 'receipt' event for the client.
 *
 * Under the `equivocate` fault it also signs a second, different receipt for the same step (other outputs) and
 * emits it as a 'receipt' event with `equivocation: true`: the evidence a client needs to get the provider
 * slashed. The stored chain holds only the first.
 */
import { codeHash } from '../core/notebook.js';
import { NbOutput, outputHash } from '../core/outputs-normalize.js';
import { ZERO_HASH } from '../core/hash.js';
import { artifactsHash, IArtifact, IStepReceipt, receiptDigest, signReceipt } from '../core/receipt.js';
import { artifactGlobs, collectArtifacts, IArtifactLimits } from './artifacts.js';
import type { IExecution } from './execution-tracker.js';
import type { IRunContext, IRunStore, IStoredReceipt } from './tokens.js';

/** How far a file's mtime may lie outside the kernel's busy..idle window and still count (coarse clocks). */
const CLOCK_MARGIN_MS = 20;

/** Signs the receipts of one run. */
export class ReceiptSigner {
  private queue: Promise<void> = Promise.resolve();
  private next: number;
  private prev: string;
  /** Versions of `outputs/` files already committed to (path -> mtime:size). */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly ctx: IRunContext,
    private readonly store: IRunStore,
    private readonly limits: Partial<IArtifactLimits> = {}
  ) {
    const receipts = store.receipts(ctx.runId);
    const last = receipts[receipts.length - 1];
    this.next = receipts.length;
    this.prev = last ? last.digest : ZERO_HASH;
  }

  /** The step the next receipt will have. */
  get nextStep(): number {
    return this.next;
  }

  /** Queues an execution; its receipt is made after those queued before it. */
  add(execution: IExecution): Promise<IStoredReceipt | undefined> {
    const done = this.queue.then(() => this.sign(execution));
    this.queue = done.then(
      () => undefined,
      () => undefined
    );
    return done.catch(e => {
      this.ctx.onEvent({
        type: 'error',
        message: `Could not sign the receipt of an execution: ${(e as Error).message}`,
        data: { msgId: execution.msgId }
      });
      return undefined;
    });
  }

  /** Resolves when every queued receipt is made. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async sign(execution: IExecution): Promise<IStoredReceipt> {
    const { ctx } = this;
    const startedAt = Math.floor(execution.startedAt ?? execution.requestedAt);
    const endedAt = Math.max(startedAt, Math.floor(execution.endedAt ?? Date.now()));
    // File times come from the kernel's coarse clock (a jiffy behind): widen the window by a margin, and never
    // count a version of a file that an earlier cell already committed to.
    const from = (execution.kernelStartedAt ?? startedAt) - CLOCK_MARGIN_MS;
    const to = (execution.kernelEndedAt ?? endedAt) + CLOCK_MARGIN_MS;
    const window = { from, to, seen: this.seen };
    const scan = await collectArtifacts(ctx.workDir, artifactGlobs(execution.tags), window, this.limits);
    const artifacts: IArtifact[] = scan.artifacts.map(({ path, size, sha256 }) => ({ path, size, sha256 }));
    for (const a of scan.artifacts) {
      this.store.putArtifact(a.sha256, a.bytes);
    }
    const outputs = execution.outputs.map(Private.withoutTransient);
    const receipt: IStepReceipt = {
      runId: ctx.runId,
      step: this.next,
      prev: this.prev,
      codeHash: codeHash(execution.code),
      outputHash: outputHash(outputs, ctx.salt),
      artifactsHash: artifactsHash(artifacts),
      startedAt,
      endedAt
    };
    const signed = signReceipt(receipt, ctx.domain, ctx.signingKey);
    const digest = receiptDigest(receipt, ctx.domain);
    const stored: IStoredReceipt = { signed, digest, outputs, artifacts, code: execution.code };
    this.store.appendReceipt(ctx.runId, stored);
    this.next += 1;
    this.prev = digest;
    const data = {
      step: receipt.step,
      digest,
      receipt: signed,
      msgId: execution.msgId,
      kernelId: execution.kernelId,
      ...(execution.cellId ? { cellId: execution.cellId } : {}),
      artifacts,
      ...(scan.skipped.length ? { skippedArtifacts: scan.skipped } : {}),
      ...(execution.died ? { kernelDied: execution.died } : {})
    };
    ctx.onEvent({ type: 'receipt', message: `signed the receipt of step ${receipt.step}`, data });
    if (ctx.fault === 'equivocate') {
      this.equivocate(receipt, outputs, data);
    }
    return stored;
  }

  /** Signs a conflicting receipt for the same step and publishes it (fault `equivocate`). */
  private equivocate(receipt: IStepReceipt, outputs: NbOutput[], data: Record<string, unknown>): void {
    const { ctx } = this;
    const other: NbOutput[] = [...outputs, { output_type: 'stream', name: 'stdout', text: 'equivocation\n' }];
    const second: IStepReceipt = { ...receipt, outputHash: outputHash(other, ctx.salt) };
    const signed = signReceipt(second, ctx.domain, ctx.signingKey);
    ctx.onEvent({
      type: 'receipt',
      message: `signed a second receipt for step ${receipt.step} (fault: equivocate)`,
      data: { ...data, receipt: signed, digest: receiptDigest(second, ctx.domain), equivocation: true }
    });
  }
}

namespace Private {
  /** Outputs as stored and hashed: `transient` (display ids) is kernel bookkeeping, not a result. */
  export function withoutTransient(output: NbOutput): NbOutput {
    if ('transient' in output) {
      const rest: Record<string, unknown> = { ...output };
      delete rest.transient;
      return rest as unknown as NbOutput;
    }
    return output;
  }
}
