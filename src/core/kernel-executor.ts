/**
 * An ICellExecutor over a Jupyter kernel connection: @jupyterlab/services' IKernelConnection in the browser (a
 * local kernel, or a kernel at another provider) and in Node, described here by the few members it needs, so the
 * core imports no JupyterLab package. Outputs are collected as JupyterLab would save them (kernel-outputs.ts).
 */
import { IKernelMessageLike, OutputCollector } from './kernel-outputs.js';
import type { ICellExecutor, IExecuted } from './verification.js';

/** The part of a kernel future (IShellFuture) this uses. Methods, so that IKernelConnection's types fit. */
export interface IKernelFutureLike {
  /** Called with each iopub message whose parent is this request (JupyterLab sets it as a property too). */
  onIOPub(msg: IKernelMessageLike): void | PromiseLike<void>;
  /** Resolves with the execute_reply once the reply and the kernel's idle status have both arrived. */
  readonly done: Promise<IKernelMessageLike | undefined>;
}

/** The part of a kernel connection (IKernelConnection) this uses. */
export interface IKernelLike {
  requestExecute(
    content: {
      code: string;
      silent?: boolean;
      store_history?: boolean;
      stop_on_error?: boolean;
      allow_stdin?: boolean;
    },
    disposeOnDone?: boolean,
    metadata?: Record<string, unknown>
  ): IKernelFutureLike;
  restart(): Promise<void>;
  interrupt(): Promise<void>;
  shutdown(): Promise<void>;
}

/** What a KernelExecutor is made of. */
export interface IKernelExecutorOptions {
  kernel: IKernelLike;
  /** For reports: "local kernel (python3)", "provider 0xabc… at http://…". */
  label: string;
  /** Writes a file (relative POSIX path) into the kernel's working folder (contents API, or the file system). */
  writeFile: (path: string, bytes: Uint8Array) => Promise<void>;
  /** Disposes of the kernel and what was started for it; default: shut the kernel down. */
  dispose?: () => Promise<void>;
  /** How long to wait for the kernel to settle after an interrupt, ms (default 10 s). */
  interruptGraceMs?: number;
}

/** Re-executes cells on one kernel, one at a time, in the order asked. */
export class KernelExecutor implements ICellExecutor {
  readonly label: string;
  private readonly kernel: IKernelLike;
  private readonly options: IKernelExecutorOptions;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: IKernelExecutorOptions) {
    this.kernel = options.kernel;
    this.label = options.label;
    this.options = options;
  }

  /**
   * Runs `code` as JupyterLab runs a cell (stop_on_error, cellId in the request metadata) and resolves with its
   * outputs and reply status. After `timeoutMs` the kernel is interrupted and the result has status 'timeout'
   * (outputs so far). Rejects when the kernel connection fails (died, disconnected, disposed).
   */
  execute(code: string, options: { cellId?: string; timeoutMs?: number } = {}): Promise<IExecuted> {
    // One execution at a time: a second call waits for the first, as cells queue in a notebook.
    const run = this.queue.then(() => this.executeNow(code, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  writeFile(path: string, bytes: Uint8Array): Promise<void> {
    return this.options.writeFile(path, bytes);
  }

  restart(): Promise<void> {
    return this.kernel.restart();
  }

  dispose(): Promise<void> {
    return this.options.dispose ? this.options.dispose() : this.kernel.shutdown();
  }

  private async executeNow(
    code: string,
    options: { cellId?: string; timeoutMs?: number }
  ): Promise<IExecuted> {
    const started = Date.now();
    const collector = new OutputCollector();
    let listening = true;
    const future = this.kernel.requestExecute(
      { code, silent: false, store_history: true, stop_on_error: true, allow_stdin: false },
      true,
      options.cellId !== undefined ? { cellId: options.cellId } : {}
    );
    future.onIOPub = (msg: IKernelMessageLike) => {
      if (listening) {
        collector.iopub(msg);
      }
    };
    const timeoutMs = options.timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut =
      timeoutMs !== undefined && Number.isFinite(timeoutMs)
        ? new Promise<'timeout'>(resolve => {
            timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs));
          })
        : new Promise<never>(() => undefined);
    let reply: IKernelMessageLike | undefined | 'timeout';
    try {
      reply = await Promise.race([future.done, timedOut]);
    } catch (e) {
      throw new Error(`the kernel stopped while running the cell: ${(e as Error).message ?? String(e)}`);
    } finally {
      clearTimeout(timer);
    }
    if (reply === 'timeout') {
      // Outputs stop here: what the interrupted cell prints afterwards (a KeyboardInterrupt) is not its result.
      listening = false;
      await this.settle(future);
      return { outputs: collector.outputs, status: 'timeout', ms: Date.now() - started };
    }
    const content = (reply?.content ?? {}) as { status?: unknown };
    collector.executeReply(content);
    const status = content.status === 'error' || content.status === 'aborted' ? content.status : 'ok';
    return { outputs: collector.outputs, status, ms: Date.now() - started };
  }

  /** Interrupts the kernel and waits (a bounded time) for the timed-out request to end, so the next one starts clean. */
  private async settle(future: IKernelFutureLike): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await this.kernel.interrupt();
      await Promise.race([
        future.done.catch(() => undefined),
        new Promise(resolve => {
          timer = setTimeout(resolve, this.options.interruptGraceMs ?? 10_000);
        })
      ]);
    } catch {
      // An interrupt that fails leaves the kernel busy; the next cell then times out too, which the report shows.
    } finally {
      clearTimeout(timer);
    }
  }
}
