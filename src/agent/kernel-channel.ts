/**
 * One kernel's upstream websocket and the client websockets attached to it. Every message goes through an ordered
 * table of small passes (STYLE.md §10):
 *
 *   kernel -> client: decode, tamper (fault), kernel death, record, deliver (or keep for replay)
 *   client -> kernel: decode, record, skip (fault), forward
 *
 * A client and the upstream that picked different protocols are translated between. While no client is attached,
 * kernel messages are kept in the store (bounded) and replayed, once, to the next client before anything newer.
 */
import type { Socket } from 'node:net';
import { RawData, WebSocket } from 'ws';
import { ExecutionTracker } from './execution-tracker.js';
import { fakeExecution, tamperMessage } from './faults.js';
import {
  decodeFrame,
  encodeFrame,
  IKernelMessage,
  IWsFrame,
  KernelWsProtocol,
  translateFrame,
  V1_PROTOCOL
} from './kernel-protocol.js';
import type { ReceiptSigner } from './receipt-signer.js';
import type { IBufferLimits, IKernelServer, IRunContext, IRunStore } from './tokens.js';
/** What a run's kernel channels share. */
export interface IKernelChannelOptions {
  ctx: IRunContext;
  server: IKernelServer;
  store: IRunStore;
  signer: ReceiptSigner;
  bufferLimits: IBufferLimits;
}

/** A message on its way through the passes; `frame` is its bytes as received, until a pass changes `msg`. */
interface IInFlight {
  frame?: IWsFrame;
  protocol: KernelWsProtocol;
  msg?: IKernelMessage;
  modified: boolean;
}

/** A pass returns false to stop the message there (answered, or kept). */
type Pass = (m: IInFlight) => boolean | void;

/** One kernel's upstream websocket and the clients attached to it. */
export class KernelChannel {
  private readonly clients = new Set<WebSocket>();
  private readonly tracker: ExecutionTracker;
  private closed = false;
  private dropped = 0;
  private executionCount = 0;
  onClose?: () => void;

  private constructor(
    readonly kernelId: string,
    private readonly upstream: WebSocket,
    readonly protocol: KernelWsProtocol,
    private readonly options: IKernelChannelOptions
  ) {
    this.tracker = new ExecutionTracker(kernelId, execution => void options.signer.add(execution));
    upstream.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      this.run(this.kernelPasses, {
        frame: { data: isBinary ? bytes : bytes.toString('utf8'), binary: isBinary },
        protocol,
        modified: false
      });
    });
    upstream.on('close', () => this.close('the connection to the kernel closed'));
    upstream.on('error', () => this.close('the connection to the kernel failed'));
  }

  /** Opens the upstream websocket of a kernel, offering the client's protocols. */
  static open(kernelId: string, offered: string[], options: IKernelChannelOptions): Promise<KernelChannel> {
    const { server } = options;
    const url = new URL(`api/kernels/${encodeURIComponent(kernelId)}/channels`, server.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('session_id', `ain-${options.ctx.runId.slice(2, 18)}`);
    const upstream = new WebSocket(url, offered, {
      headers: server.token ? { Authorization: `token ${server.token}` } : {},
      perMessageDeflate: false
    });
    upstream.on('upgrade', res => (res.socket as Socket).setNoDelay(true));
    return new Promise((resolve, reject) => {
      upstream.once('unexpected-response', (_req, res) => {
        upstream.terminate();
        reject(Object.assign(new Error(`upstream answered ${res.statusCode}`), { status: res.statusCode }));
      });
      upstream.once('error', e => reject(Object.assign(e, { status: 502 })));
      upstream.once('open', () => {
        const protocol: KernelWsProtocol = upstream.protocol === V1_PROTOCOL ? V1_PROTOCOL : '';
        resolve(new KernelChannel(kernelId, upstream, protocol, options));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Attaches a client: first the messages kept while none was attached, then live ones. */
  attach(ws: WebSocket): void {
    const clientProtocol: KernelWsProtocol = ws.protocol === V1_PROTOCOL ? V1_PROTOCOL : '';
    const kept = this.options.store.takeBufferedMessages(this.options.ctx.runId, this.kernelId);
    for (const { data } of kept) {
      const frame: IWsFrame =
        typeof data === 'string' ? { data, binary: false } : { data: Buffer.from(data), binary: true };
      const out = translateFrame(frame, frame.binary ? V1_PROTOCOL : '', clientProtocol);
      ws.send(out.data, { binary: out.binary });
    }
    if (this.dropped > 0) {
      this.warn(
        `replayed ${kept.length} kernel messages; ${this.dropped} older ones were dropped (buffer full)`
      );
      this.dropped = 0;
    }
    this.clients.add(ws);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      this.run(this.clientPasses, {
        frame: { data: isBinary ? bytes : bytes.toString('utf8'), binary: isBinary },
        protocol: clientProtocol,
        modified: false
      });
    });
    ws.on('close', () => this.clients.delete(ws));
    ws.on('error', () => this.clients.delete(ws));
  }

  /** The kernel died or was restarted: open executions end with KernelDied, and the clients are told. */
  kernelDied(reason: string): void {
    for (const msg of this.tracker.died(reason)) {
      this.deliver({ protocol: this.protocol, msg, modified: true });
    }
  }

  /** Closes the channel and its clients (kernel gone, or the run stopped). */
  close(reason = 'the run stopped'): void {
    if (this.closed) {
      return;
    }
    this.kernelDied(reason);
    this.closed = true;
    this.upstream.terminate();
    for (const ws of this.clients) {
      ws.close(1001, 'kernel connection closed');
    }
    this.clients.clear();
    this.onClose?.();
  }

  // ---- kernel -> client ----
  private readonly kernelPasses: Pass[] = [
    m => this.decode(m),
    m => {
      // fault tamper-outputs: the client and the receipt both get altered outputs of the run's executions.
      if (
        this.options.ctx.fault === 'tamper-outputs' &&
        m.msg?.channel === 'iopub' &&
        this.tracker.executionOf(m.msg)
      ) {
        m.modified = tamperMessage(m.msg) || m.modified;
      }
    },
    m => {
      const state = m.msg?.header.msg_type === 'status' ? m.msg.content.execution_state : undefined;
      if (state === 'restarting' || state === 'dead') {
        this.kernelDied(`kernel ${state}`);
      }
    },
    m => {
      if (m.msg?.channel === 'iopub') {
        this.tracker.iopub(m.msg);
      } else if (m.msg?.channel === 'shell') {
        this.tracker.reply(m.msg);
      }
    },
    m => this.deliver(m)
  ];

  // ---- client -> kernel ----
  private readonly clientPasses: Pass[] = [
    m => this.decode(m),
    m => {
      if (m.msg?.channel === 'shell') {
        this.tracker.request(m.msg);
      }
    },
    m => {
      // fault skip-execution: answer as the kernel would, without running anything.
      if (this.options.ctx.fault === 'skip-execution' && m.msg?.header.msg_type === 'execute_request') {
        for (const msg of fakeExecution(m.msg, ++this.executionCount)) {
          this.run(this.kernelPasses, { protocol: this.protocol, msg, modified: true });
        }
        return false;
      }
    },
    m => {
      const frame =
        m.modified || !m.frame
          ? encodeFrame(m.msg!, this.protocol)
          : translateFrame(m.frame, m.protocol, this.protocol);
      if (this.upstream.readyState === WebSocket.OPEN) {
        this.upstream.send(frame.data, { binary: frame.binary });
      }
    }
  ];

  private run(passes: Pass[], m: IInFlight): void {
    for (const pass of passes) {
      if (pass(m) === false) {
        return;
      }
    }
  }

  /** Decodes the frame; a frame that is not a kernel message is forwarded as is (nothing to record). */
  private decode(m: IInFlight): void {
    if (!m.msg && m.frame) {
      try {
        m.msg = decodeFrame(m.frame, m.protocol);
      } catch {
        m.msg = undefined;
      }
    }
  }

  private deliver(m: IInFlight): void {
    const open = [...this.clients].filter(ws => ws.readyState === WebSocket.OPEN);
    if (open.length === 0) {
      this.keep(m);
      return;
    }
    for (const ws of open) {
      const to: KernelWsProtocol = ws.protocol === V1_PROTOCOL ? V1_PROTOCOL : '';
      const frame =
        m.modified || !m.frame ? encodeFrame(m.msg!, to) : translateFrame(m.frame, m.protocol, to);
      // A socket cut before its close event fails the write: keep the message for the client's reconnect.
      ws.send(frame.data, { binary: frame.binary }, error => error && open.length === 1 && this.keep(m));
    }
  }

  /** Keeps a message for replay: text frames as JSON protocol, binary ones as v1 (self-describing by type). */
  private keep(m: IInFlight): void {
    let frame: IWsFrame;
    if (!m.modified && m.frame && (m.frame.binary ? m.protocol === V1_PROTOCOL : m.protocol === '')) {
      frame = m.frame;
    } else if (m.msg) {
      frame = encodeFrame(m.msg, m.msg.buffers.length ? V1_PROTOCOL : '');
    } else {
      return; // not a kernel message and not in a storable form: nothing a client could use
    }
    const { ctx, store, bufferLimits } = this.options;
    const dropped = store.bufferMessage(
      ctx.runId,
      this.kernelId,
      m.msg?.channel ?? '',
      frame.data,
      bufferLimits
    );
    if (dropped) {
      if (this.dropped === 0) {
        this.warn(
          'no client is connected and the replay buffer is full: the oldest kernel messages are dropped'
        );
      }
      this.dropped += dropped;
    }
  }

  private warn(message: string): void {
    this.options.ctx.onEvent({
      type: 'error',
      message,
      data: { warning: 'replay-buffer', kernelId: this.kernelId }
    });
  }
}
