import { ExecutionTracker, IExecution } from './execution-tracker';
import { makeMessage } from './kernel-protocol';

/** A request and the kernel's iopub answers to it, as the proxy sees them. */
function session() {
  const done: IExecution[] = [];
  const tracker = new ExecutionTracker('k1', e => done.push(e));
  const request = makeMessage('shell', 'execute_request', {}, { code: 'run()' });
  request.metadata = { cellId: 'c1', tags: ['ain:rtol=1e-3'] };
  tracker.request(request);
  const iopub = (type: string, content: Record<string, unknown>) =>
    tracker.iopub(makeMessage('iopub', type, request.header, content));
  const reply = () =>
    tracker.reply(makeMessage('shell', 'execute_reply', request.header, { status: 'ok', payload: [] }));
  return { tracker, done, iopub, reply };
}

describe('ExecutionTracker', () => {
  it("keeps an execution's outputs as JupyterLab saves them, and closes it at idle and its reply", () => {
    const { done, iopub, reply } = session();
    reply();
    iopub('status', { execution_state: 'busy' });
    iopub('stream', { name: 'stdout', text: 'epoch 1\r' });
    iopub('stream', { name: 'stdout', text: 'epoch 2\n' });
    iopub('display_data', { data: { 'text/plain': 'a' }, metadata: {}, transient: { display_id: 'd' } });
    iopub('update_display_data', {
      data: { 'text/plain': 'b' },
      metadata: {},
      transient: { display_id: 'd' }
    });
    expect(done).toHaveLength(0);
    iopub('status', { execution_state: 'idle' });
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ cellId: 'c1', tags: ['ain:rtol=1e-3'], code: 'run()' });
    expect(done[0].outputs).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'epoch 2\n' },
      { output_type: 'display_data', data: { 'text/plain': 'b' }, metadata: {} }
    ]);
  });

  it('ends an execution whose kernel died with what it printed and a KernelDied error', () => {
    const { tracker, done, iopub } = session();
    iopub('stream', { name: 'stdout', text: 'before\n' });
    const messages = tracker.died('kernel restarting');
    expect(messages.map(m => m.content.ename)).toEqual(['KernelDied']);
    expect(done[0].outputs.map(o => o.output_type)).toEqual(['stream', 'error']);
    expect(done[0].died).toBe('kernel restarting');
    expect(tracker.pending).toBe(0);
  });
});

describe('ExecutionTracker and the execute_reply', () => {
  const pager = { source: 'page', data: { 'text/plain': 'Signature: len(obj, /)' }, start: 0 };
  const pageOutput = {
    output_type: 'display_data',
    data: { 'text/plain': 'Signature: len(obj, /)' },
    metadata: {}
  };

  function withReply(graceMs = 2000) {
    const done: IExecution[] = [];
    const tracker = new ExecutionTracker('k1', e => done.push(e), graceMs);
    const request = makeMessage('shell', 'execute_request', {}, { code: 'len?' });
    tracker.request(request);
    const idle = () =>
      tracker.iopub(makeMessage('iopub', 'status', request.header, { execution_state: 'idle' }));
    const reply = (payload: unknown[] = [pager]) =>
      tracker.reply(makeMessage('shell', 'execute_reply', request.header, { status: 'ok', payload }));
    return { tracker, done, idle, reply };
  }

  it('keeps the pager payload as JupyterLab does (a display_data), reply before idle', () => {
    const { done, idle, reply } = withReply();
    reply();
    expect(done).toHaveLength(0);
    idle();
    expect(done.map(e => e.outputs)).toEqual([[pageOutput]]);
  });

  it('waits at idle for a reply still on its way, then keeps its payload', () => {
    const { done, idle, reply } = withReply();
    idle();
    expect(done).toHaveLength(0);
    reply();
    expect(done.map(e => e.outputs)).toEqual([[pageOutput]]);
  });

  it('does not wait for a reply that never comes longer than the grace', async () => {
    const { done, idle, tracker } = withReply(50);
    idle();
    await new Promise(r => setTimeout(r, 120));
    expect(done.map(e => e.outputs)).toEqual([[]]);
    expect(tracker.pending).toBe(0);
  });

  it('a cell that reached idle before its kernel died keeps its outputs (no KernelDied)', () => {
    const { done, idle, tracker } = withReply();
    idle();
    expect(tracker.died('kernel restarting')).toEqual([]);
    expect(done.map(e => [e.outputs, e.died])).toEqual([[[], undefined]]);
  });
});
