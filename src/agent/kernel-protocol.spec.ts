import { KernelMessage } from '@jupyterlab/services';
import { serialize, deserialize } from '@jupyterlab/services/lib/kernel/serialize';
import { decodeFrame, encodeFrame, translateFrame, IKernelMessage, V1_PROTOCOL } from './kernel-protocol';

const message = (buffers: Uint8Array[] = []): IKernelMessage => ({
  channel: 'iopub',
  header: {
    msg_id: 'm1',
    msg_type: 'stream',
    session: 's',
    username: 'u',
    date: '2024-01-01T00:00:00Z',
    version: '5.3'
  },
  parent_header: { msg_id: 'p1', msg_type: 'execute_request' },
  metadata: { a: 1 },
  content: { name: 'stdout', text: 'héllo\n' },
  buffers
});

const toArrayBuffer = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);

describe.each([
  ['JSON', ''],
  ['v1', V1_PROTOCOL]
] as const)('%s protocol', (_name, protocol) => {
  test.each([
    ['without buffers', []],
    ['with buffers', [new Uint8Array([1, 2, 3]), new Uint8Array([])]]
  ])('decodes what JupyterLab encodes and JupyterLab decodes what it encodes (%s)', (_what, buffers) => {
    const msg = message(buffers as Uint8Array[]);
    const frame = encodeFrame(msg, protocol);
    const theirs = deserialize(
      (typeof frame.data === 'string' ? frame.data : toArrayBuffer(frame.data)) as ArrayBuffer,
      protocol
    ) as KernelMessage.IMessage;
    expect(theirs.header).toEqual(msg.header);
    expect(theirs.content).toEqual(msg.content);
    expect((theirs.buffers ?? []).map(b => Array.from(new Uint8Array((b as DataView).buffer)))).toEqual(
      msg.buffers.map(b => Array.from(b))
    );
    const sent = serialize(
      { ...msg, buffers: msg.buffers.map(b => new DataView(b.buffer.slice(0))) } as any,
      protocol
    );
    const ours = decodeFrame(
      typeof sent === 'string'
        ? { data: sent, binary: false }
        : { data: Buffer.from(sent as ArrayBuffer), binary: true },
      protocol
    );
    expect(ours.channel).toBe('iopub');
    expect(ours.parent_header).toEqual(msg.parent_header);
    expect(ours.buffers.map(b => Array.from(b))).toEqual(msg.buffers.map(b => Array.from(b)));
  });
});

test('translating between the protocols keeps the message', () => {
  const msg = message([new Uint8Array([9, 8])]);
  const v1 = encodeFrame(msg, V1_PROTOCOL);
  const json = translateFrame(v1, V1_PROTOCOL, '');
  expect(json.binary).toBe(true);
  const back = decodeFrame(translateFrame(json, '', V1_PROTOCOL), V1_PROTOCOL);
  expect(back.content).toEqual(msg.content);
  expect(Array.from(back.buffers[0])).toEqual([9, 8]);
});

test('a frame that is not a kernel message is an error', () => {
  expect(() => decodeFrame({ data: '{"x":1}', binary: false }, '')).toThrow(/not a Jupyter kernel message/);
  expect(() => decodeFrame({ data: Buffer.alloc(4), binary: true }, V1_PROTOCOL)).toThrow();
});
