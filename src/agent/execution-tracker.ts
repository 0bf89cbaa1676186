/**
 * Follows the executions of one kernel from its messages: an `execute_request` opens one, the iopub messages whose
 * parent is that request add its outputs (as nbformat 4 outputs, the way JupyterLab's output area builds them:
 * the core's OutputCollector, so a receipt's outputs are the ones the client's notebook saves), and it closes once
 * both the `status: idle` for that parent and the shell `execute_reply` have passed: the reply's pager payload
 * (`obj?`) becomes an output in JupyterLab's notebook, so it belongs in the receipt too. The two travel on different
 * channels in no fixed order; a reply that has not come REPLY_GRACE_MS after idle is not waited for. A kernel that
 * dies or restarts closes every open execution with a synthetic `KernelDied` error output, which the proxy also
 * sends to the client, so the receipt and the notebook say the same.
 */
import { OutputCollector } from '../core/kernel-outputs.js';
import type { NbOutput } from '../core/outputs-normalize.js';
import { IKernelHeader, IKernelMessage, makeMessage } from './kernel-protocol.js';

/** One execution from request to idle (or death). */
export interface IExecution {
  kernelId: string;
  msgId: string;
  code: string;
  /** The request's header, for messages sent in reply to it. */
  header: IKernelHeader;
  /** `cellId` of the request metadata (JupyterLab sends it), when any. */
  cellId?: string;
  /** Cell tags from the request metadata (JupyterLab sends the cell's metadata, tags included). */
  tags: string[];
  outputs: NbOutput[];
  /** Agent clock (ms) when the request was forwarded, and when the kernel went busy / idle for it. */
  requestedAt: number;
  startedAt?: number;
  endedAt?: number;
  /** The kernel's own clock (ms) at busy and idle, which bounds the files the cell wrote. */
  kernelStartedAt?: number;
  kernelEndedAt?: number;
  /** Set when the kernel died before idle. */
  died?: string;
}

/** How long an execution waits after idle for its execute_reply (which normally comes within milliseconds). */
export const REPLY_GRACE_MS = 2000;

/** The error output of a cell whose kernel died under it. */
export function kernelDiedOutput(reason: string): NbOutput {
  return {
    output_type: 'error',
    ename: 'KernelDied',
    evalue: `The kernel died while this cell ran (${reason}); its outputs end here.`,
    traceback: []
  };
}

/** What the tracker keeps of an open execution besides the record itself. */
interface IOpen {
  execution: IExecution;
  /** Its outputs so far; they move to `execution.outputs` when it ends. */
  collector: OutputCollector;
  /** Whether its execute_reply has passed. */
  replied: boolean;
  /** Idle before the reply: the grace timer that closes it anyway. */
  wait?: ReturnType<typeof setTimeout>;
}

/** Tracks the open executions of one kernel. */
export class ExecutionTracker {
  private readonly open = new Map<string, IOpen>();

  constructor(
    readonly kernelId: string,
    private readonly onDone: (execution: IExecution) => void,
    private readonly replyGraceMs = REPLY_GRACE_MS
  ) {}

  /** Number of executions not yet finished. */
  get pending(): number {
    return this.open.size;
  }

  /** The open execution a message belongs to, if any. */
  executionOf(msg: IKernelMessage): IExecution | undefined {
    return this.openOf(msg)?.execution;
  }

  /** A client's shell message: opens an execution for an `execute_request`. */
  request(msg: IKernelMessage): IExecution | undefined {
    if (msg.header.msg_type !== 'execute_request') {
      return undefined;
    }
    const metadata = msg.metadata ?? {};
    const tags = Array.isArray(metadata.tags)
      ? metadata.tags.filter((t): t is string => typeof t === 'string')
      : [];
    const execution: IExecution = {
      kernelId: this.kernelId,
      msgId: msg.header.msg_id,
      code: typeof msg.content.code === 'string' ? msg.content.code : '',
      header: msg.header,
      cellId: typeof metadata.cellId === 'string' ? metadata.cellId : undefined,
      tags,
      outputs: [],
      requestedAt: Date.now()
    };
    this.open.set(execution.msgId, { execution, collector: new OutputCollector(), replied: false });
    return execution;
  }

  /** A kernel iopub message: adds outputs; at idle, closes the execution once its reply has passed too. */
  iopub(msg: IKernelMessage): void {
    const open = this.openOf(msg);
    if (!open) {
      return;
    }
    const { execution } = open;
    const c = msg.content;
    if (msg.header.msg_type !== 'status') {
      open.collector.iopub(msg);
    } else if (c.execution_state === 'busy' && execution.startedAt === undefined) {
      execution.startedAt = Date.now();
      execution.kernelStartedAt = Private.kernelTime(msg);
    } else if (c.execution_state === 'idle' && execution.endedAt === undefined) {
      execution.endedAt = Date.now();
      execution.kernelEndedAt = Private.kernelTime(msg);
      if (open.replied) {
        this.finish(open);
      } else {
        open.wait = setTimeout(() => this.finish(open), this.replyGraceMs);
        open.wait.unref?.();
      }
    }
  }

  /** A kernel shell message: an execute_reply adds its pager payload and, after idle, closes the execution. */
  reply(msg: IKernelMessage): void {
    const open = this.openOf(msg);
    if (!open || msg.header.msg_type !== 'execute_reply') {
      return;
    }
    open.collector.executeReply(msg.content);
    open.replied = true;
    if (open.execution.endedAt !== undefined) {
      this.finish(open);
    }
  }

  /**
   * The kernel died or restarted: closes every open execution with a KernelDied output. Returns, per execution,
   * the iopub error message to show the client (its parent is the execution's request).
   */
  died(reason: string, session?: string): IKernelMessage[] {
    const messages: IKernelMessage[] = [];
    for (const open of [...this.open.values()]) {
      const { execution } = open;
      if (execution.endedAt !== undefined) {
        // It ran to idle and only waited for its reply: it ended before the kernel died.
        this.finish(open);
      } else {
        const output = kernelDiedOutput(reason);
        execution.died = reason;
        execution.endedAt = Date.now();
        const content = { ename: 'KernelDied', evalue: (output as { evalue: string }).evalue, traceback: [] };
        messages.push(
          makeMessage('iopub', 'error', execution.header, content, session ?? execution.header.session)
        );
        this.finish(open, [...open.collector.outputs, output]);
      }
    }
    return messages;
  }

  private openOf(msg: IKernelMessage): IOpen | undefined {
    const parent = msg.parent_header?.msg_id;
    return parent ? this.open.get(parent) : undefined;
  }

  /** Ends an execution once, with `outputs` (default: what its collector holds); the grace timer cleared. */
  private finish(open: IOpen, outputs = open.collector.outputs): void {
    if (this.open.get(open.execution.msgId) !== open) {
      return;
    }
    clearTimeout(open.wait);
    this.open.delete(open.execution.msgId);
    open.execution.outputs = outputs;
    this.onDone(open.execution);
  }
}

namespace Private {
  export function kernelTime(msg: IKernelMessage): number | undefined {
    const t = typeof msg.header.date === 'string' ? Date.parse(msg.header.date) : NaN;
    return Number.isFinite(t) ? t : undefined;
  }
}
