/**
 * The kernel websocket proxy of a run: one KernelChannel (kernel-channel.ts) per kernel, opened at the first client
 * upgrade and kept for the run's life, so clients can drop and come back without losing output. Both the JSON
 * protocol and `v1.kernel.websocket.jupyter.org` are spoken. TCP_NODELAY is set on both sockets (client here,
 * upstream in KernelChannel.open) so the agent's hop does not pay Nagle + delayed ACK.
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { IKernelChannelOptions, KernelChannel } from './kernel-channel.js';
import { KernelWsProtocol } from './kernel-protocol.js';
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
    // end() lets the answer out; a peer that never closes its side is cut after a second.
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
