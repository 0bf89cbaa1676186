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
  return { tracker, done, iopub };
}

describe('ExecutionTracker', () => {
  it("keeps an execution's outputs as JupyterLab saves them, and closes it at idle", () => {
    const { done, iopub } = session();
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
