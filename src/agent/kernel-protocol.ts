/**
 * The two wire formats of Jupyter kernel websockets, decoded and encoded so the proxy can read every message and
 * translate between a client and an upstream that picked different formats:
 *
 * - the default ("JSON") protocol: a text frame holding the whole message as JSON with a `channel` field, or, when
 *   the message has binary buffers, a binary frame: uint32 BE count n, n uint32 BE offsets, then the JSON and the
 *   buffers (jupyter_server `serialize_binary_message`);
 * - `v1.kernel.websocket.jupyter.org`: one binary frame: uint64 LE count n, n uint64 LE offsets, then channel,
 *   header, parent header, metadata, content (JSON each) and the buffers (jupyter_server `serialize_msg_to_ws_v1`).
 */

/** The subprotocol name of the binary framing. */
export const V1_PROTOCOL = 'v1.kernel.websocket.jupyter.org';

/** A kernel websocket protocol: '' is the default JSON protocol. */
export type KernelWsProtocol = '' | typeof V1_PROTOCOL;

/** A Jupyter message header (the fields the proxy reads). */
export interface IKernelHeader {
  msg_id: string;
  msg_type: string;
  session?: string;
  username?: string;
  date?: string;
  version?: string;
  [key: string]: unknown;
}

/** A decoded kernel message. `parent_header` is `{}` when there is no parent. */
export interface IKernelMessage {
  channel: string;
  header: IKernelHeader;
  parent_header: Partial<IKernelHeader>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: Uint8Array[];
}

/** One websocket frame: text (a string) or binary. */
export interface IWsFrame {
  data: string | Buffer;
  binary: boolean;
}

/** Decodes a frame of `protocol`; throws a plain Error for a frame that is neither format. */
export function decodeFrame(frame: IWsFrame, protocol: KernelWsProtocol): IKernelMessage {
  if (protocol === V1_PROTOCOL) {
    return Private.decodeV1(toBuffer(frame.data));
  }
  if (!frame.binary) {
    const msg = JSON.parse(typeof frame.data === 'string' ? frame.data : frame.data.toString('utf8'));
    return Private.complete(msg, []);
  }
  return Private.decodeBinaryJson(toBuffer(frame.data));
}

/** Encodes a message as a frame of `protocol`. */
export function encodeFrame(msg: IKernelMessage, protocol: KernelWsProtocol): IWsFrame {
  if (protocol === V1_PROTOCOL) {
    return { data: Private.encodeV1(msg), binary: true };
  }
  const { buffers, ...rest } = msg;
  // jupyter_client also puts msg_id and msg_type at the top level; some clients read them there.
  const json = JSON.stringify({ ...rest, msg_id: msg.header.msg_id, msg_type: msg.header.msg_type });
  if (buffers.length === 0) {
    return { data: json, binary: false };
  }
  const parts = [
    Buffer.from(json, 'utf8'),
    ...buffers.map(b => Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  ];
  const head = Buffer.alloc(4 * (parts.length + 1));
  head.writeUInt32BE(parts.length, 0);
  let offset = head.length;
  parts.forEach((part, i) => {
    head.writeUInt32BE(offset, 4 * (i + 1));
    offset += part.length;
  });
  return { data: Buffer.concat([head, ...parts]), binary: true };
}

/** Re-encodes a frame for another protocol (a no-op when both are the same). */
export function translateFrame(frame: IWsFrame, from: KernelWsProtocol, to: KernelWsProtocol): IWsFrame {
  return from === to ? frame : encodeFrame(decodeFrame(frame, from), to);
}

/** The byte size of a frame, for bounds on buffers. */
export function frameSize(frame: IWsFrame): number {
  return typeof frame.data === 'string' ? Buffer.byteLength(frame.data) : frame.data.length;
}

/** A new message with a fresh header, as a kernel would send it in reply to `parent`. */
export function makeMessage(
  channel: string,
  msgType: string,
  parent: IKernelHeader | Partial<IKernelHeader>,
  content: Record<string, unknown>,
  session = 'ain-agent'
): IKernelMessage {
  return {
    channel,
    header: {
      msg_id: `ain-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`,
      msg_type: msgType,
      session,
      username: 'ain-agent',
      date: new Date().toISOString(),
      version: '5.3'
    },
    parent_header: parent,
    metadata: {},
    content,
    buffers: []
  };
}

function toBuffer(data: string | Buffer): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

namespace Private {
  export function complete(msg: Partial<IKernelMessage>, buffers: Uint8Array[]): IKernelMessage {
    if (!msg || typeof msg !== 'object' || !msg.header || typeof msg.header.msg_type !== 'string') {
      throw new Error('not a Jupyter kernel message (no header.msg_type)');
    }
    return {
      channel: String(msg.channel ?? ''),
      header: msg.header,
      parent_header: msg.parent_header ?? {},
      metadata: msg.metadata ?? {},
      content: msg.content ?? {},
      buffers
    };
  }

  export function decodeBinaryJson(buf: Buffer): IKernelMessage {
    const n = buf.readUInt32BE(0);
    if (n < 1 || 4 * (n + 1) > buf.length) {
      throw new Error('malformed binary kernel message (bad buffer count)');
    }
    const offsets: number[] = [];
    for (let i = 1; i <= n; i++) {
      offsets.push(buf.readUInt32BE(4 * i));
    }
    offsets.push(buf.length);
    const json = JSON.parse(buf.subarray(offsets[0], offsets[1]).toString('utf8'));
    const buffers: Uint8Array[] = [];
    for (let i = 1; i < n; i++) {
      buffers.push(buf.subarray(offsets[i], offsets[i + 1]));
    }
    return complete(json, buffers);
  }

  export function decodeV1(buf: Buffer): IKernelMessage {
    const n = Number(buf.readBigUInt64LE(0));
    if (n < 6 || 8 * (n + 1) > buf.length) {
      throw new Error(`malformed ${V1_PROTOCOL} message (bad offset count)`);
    }
    const offsets: number[] = [];
    for (let i = 1; i <= n; i++) {
      offsets.push(Number(buf.readBigUInt64LE(8 * i)));
    }
    // The last offset is the end of the last part; some writers omit it, so the frame end stands in.
    if (offsets[offsets.length - 1] !== buf.length) {
      offsets.push(buf.length);
    }
    const part = (i: number) => buf.subarray(offsets[i], offsets[i + 1]);
    const json = (i: number) => {
      const text = part(i).toString('utf8');
      return text === '' ? {} : JSON.parse(text);
    };
    const buffers: Uint8Array[] = [];
    for (let i = 5; i < offsets.length - 1; i++) {
      buffers.push(part(i));
    }
    return complete(
      {
        channel: part(0).toString('utf8'),
        header: json(1),
        parent_header: json(2),
        metadata: json(3),
        content: json(4)
      },
      buffers
    );
  }

  export function encodeV1(msg: IKernelMessage): Buffer {
    const parts = [
      Buffer.from(msg.channel, 'utf8'),
      Buffer.from(JSON.stringify(msg.header), 'utf8'),
      Buffer.from(JSON.stringify(msg.parent_header ?? {}), 'utf8'),
      Buffer.from(JSON.stringify(msg.metadata ?? {}), 'utf8'),
      Buffer.from(JSON.stringify(msg.content ?? {}), 'utf8'),
      ...msg.buffers.map(b => Buffer.from(b.buffer, b.byteOffset, b.byteLength))
    ];
    // n offsets: one per part plus the end, as jupyter_server writes them.
    const n = parts.length + 1;
    const head = Buffer.alloc(8 * (n + 1));
    head.writeBigUInt64LE(BigInt(n), 0);
    let offset = head.length;
    parts.forEach((p, i) => {
      head.writeBigUInt64LE(BigInt(offset), 8 * (i + 1));
      offset += p.length;
    });
    head.writeBigUInt64LE(BigInt(offset), 8 * n);
    return Buffer.concat([head, ...parts]);
  }
}
