/**
 * The kernel websocket proxy of a run. Per kernel, one upstream websocket to the kernel server stays open for the
 * run's life; client websockets attach to it and detach (network drops, reloads). Every message goes through an
 * ordered table of small passes (STYLE.md §10):
 *
 *   kernel -> client: decode, tamper (fault), kernel death, record, deliver (or keep for replay)
 *   client -> kernel: decode, record, skip (fault), forward
 *
 * Both the JSON protocol and `v1.kernel.websocket.jupyter.org` are spoken; a client and the upstream that picked
 * different ones are translated between. While no client is attached, kernel messages are kept in the store
 * (bounded) and replayed, once, to the next client before anything newer. TCP_NODELAY is set on both sockets so
 * the agent's hop does not pay Nagle + delayed ACK.
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RawData, WebSocket, WebSocketServer } from 'ws';
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
      ws.send(frame.data, { binary: frame.binary });
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

/** The kernel websockets of one run: one KernelChannel per kernel, created at the first client upgrade. */
export class KernelWsProxy {
  private readonly channels = new Map<string, Promise<KernelChannel>>();
  private readonly chosen = new WeakMap<IncomingMessage, KernelWsProtocol>();
  private readonly wss: WebSocketServer;

  constructor(private readonly options: IKernelChannelOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      // The client gets the upstream's protocol when it offered it, else the JSON protocol (translated).
      handleProtocols: (offered, req) => {
        const protocol = this.chosen.get(req);
        return protocol && offered.has(protocol) ? protocol : false;
      }
    });
  }

  /** A client upgrade for `api/kernels/<id>/channels`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): void {
    const match = /^\/?api\/kernels\/([^/?]+)\/channels(?:\?.*)?$/.exec(path);
    if (!match) {
      return Private.refuse(socket, 404);
    }
    (socket as Socket).setNoDelay?.(true);
    const kernelId = decodeURIComponent(match[1]);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map(s => s.trim())
      .filter(Boolean);
    this.channel(kernelId, offered).then(
      channel => {
        this.chosen.set(req, channel.protocol);
        this.wss.handleUpgrade(req, socket, head, ws => channel.attach(ws));
      },
      e => Private.refuse(socket, (e as { status?: number }).status ?? 502)
    );
  }

  /** The kernel was restarted through the REST API: its open executions end with KernelDied. */
  kernelRestarted(kernelId: string): void {
    void this.channels.get(kernelId)?.then(
      c => c.kernelDied('kernel restarted'),
      () => undefined
    );
  }

  /** Closes every channel (the run stops). */
  async close(): Promise<void> {
    const channels = await Promise.allSettled([...this.channels.values()]);
    for (const c of channels) {
      if (c.status === 'fulfilled') {
        c.value.close();
      }
    }
    this.channels.clear();
    this.wss.close();
  }

  private channel(kernelId: string, offered: string[]): Promise<KernelChannel> {
    let pending = this.channels.get(kernelId);
    if (!pending) {
      pending = KernelChannel.open(kernelId, offered, this.options).then(channel => {
        channel.onClose = () => this.channels.delete(kernelId);
        return channel;
      });
      pending.catch(() => this.channels.delete(kernelId));
      this.channels.set(kernelId, pending);
    }
    return pending;
  }
}

namespace Private {
  export function refuse(socket: Duplex, status: number): void {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`
    );
    socket.destroy();
  }
}
