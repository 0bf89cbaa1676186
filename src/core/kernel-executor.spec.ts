import type { Kernel } from '@jupyterlab/services';
import { IKernelFutureLike, IKernelLike, KernelExecutor } from './kernel-executor.js';
import type { IKernelMessageLike } from './kernel-outputs.js';

// The structural type must accept JupyterLab's own kernel connection, which the extension passes in.
const fromJupyterLab = (kernel: Kernel.IKernelConnection): IKernelLike => kernel;
void fromJupyterLab;

type Step = { iopub: [string, Record<string, unknown>][]; status?: string; payload?: unknown[] } | 'hang';

/** A kernel that answers each request from a script (a unit test of the executor alone). */
class ScriptedKernel implements IKernelLike {
  readonly requests: { code: string; disposeOnDone?: boolean; metadata?: Record<string, unknown> }[] = [];
  readonly calls: string[] = [];
  private hanging: (() => void) | undefined;
  constructor(private readonly script: Step[]) {}

  requestExecute(
    content: { code: string },
    disposeOnDone?: boolean,
    metadata?: Record<string, unknown>
  ): IKernelFutureLike {
    this.requests.push({ code: content.code, disposeOnDone, metadata });
    const step = this.script.shift() ?? { iopub: [] };
    let resolveDone!: (m: IKernelMessageLike) => void;
    const done = new Promise<IKernelMessageLike>(r => (resolveDone = r));
    const future: IKernelFutureLike = { onIOPub: () => undefined, done };
    const send = (type: string, c: Record<string, unknown>) =>
      future.onIOPub({ header: { msg_type: type }, parent_header: {}, content: c });
    setTimeout(() => {
      send('status', { execution_state: 'busy' });
      if (step === 'hang') {
        send('stream', { name: 'stdout', text: 'started\n' });
        // Only an interrupt ends it, with the KeyboardInterrupt a real kernel prints.
        this.hanging = () => {
          send('error', { ename: 'KeyboardInterrupt', evalue: '', traceback: [] });
          resolveDone({ header: { msg_type: 'execute_reply' }, content: { status: 'error' } });
        };
        return;
      }
      step.iopub.forEach(([type, c]) => send(type, c));
      send('status', { execution_state: 'idle' });
      resolveDone({
        header: { msg_type: 'execute_reply' },
        content: { status: step.status ?? 'ok', ...(step.payload ? { payload: step.payload } : {}) }
      });
    }, 0);
    return future;
  }
  async restart() {
    this.calls.push('restart');
  }
  async interrupt() {
    this.calls.push('interrupt');
    this.hanging?.();
    this.hanging = undefined;
  }
  async shutdown() {
    this.calls.push('shutdown');
  }
}

const executor = (
  kernel: IKernelLike,
  extra: Partial<ConstructorParameters<typeof KernelExecutor>[0]> = {}
) => new KernelExecutor({ kernel, label: 'scripted kernel', writeFile: async () => undefined, ...extra });

describe('KernelExecutor', () => {
  it('runs a cell as JupyterLab does and resolves with its outputs and status', async () => {
    const kernel = new ScriptedKernel([
      {
        iopub: [
          ['stream', { name: 'stdout', text: 'a' }],
          ['stream', { name: 'stdout', text: 'b\n' }],
          ['execute_result', { execution_count: 1, data: { 'text/plain': '42' }, metadata: {} }]
        ]
      }
    ]);
    const result = await executor(kernel).execute('print("ab"); 42', { cellId: 'c1' });
    expect(result.status).toBe('ok');
    expect(result.outputs).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'ab\n' },
      { output_type: 'execute_result', execution_count: 1, data: { 'text/plain': '42' }, metadata: {} }
    ]);
    expect(kernel.requests).toEqual([
      { code: 'print("ab"); 42', disposeOnDone: true, metadata: { cellId: 'c1' } }
    ]);
  });

  it('reports an error reply, and adds a pager payload as a display', async () => {
    const kernel = new ScriptedKernel([
      {
        iopub: [['error', { ename: 'NameError', evalue: "name 'x' is not defined", traceback: [] }]],
        status: 'error'
      },
      { iopub: [], payload: [{ source: 'page', data: { 'text/plain': 'Signature: len(obj)' } }] }
    ]);
    const e = executor(kernel);
    const [failed, help] = await Promise.all([e.execute('x'), e.execute('len?')]);
    expect(failed.status).toBe('error');
    expect(failed.outputs[0]).toMatchObject({ ename: 'NameError' });
    expect(help.outputs).toEqual([
      { output_type: 'display_data', data: { 'text/plain': 'Signature: len(obj)' }, metadata: {} }
    ]);
    // Two calls at once still ran one after the other, in order.
    expect(kernel.requests.map(r => r.code)).toEqual(['x', 'len?']);
  });

  it('interrupts a cell that outlives its timeout and keeps only what it printed before', async () => {
    const kernel = new ScriptedKernel(['hang', { iopub: [['stream', { name: 'stdout', text: 'next\n' }]] }]);
    const e = executor(kernel);
    const slow = await e.execute('while True: pass', { timeoutMs: 20 });
    expect(slow.status).toBe('timeout');
    expect(slow.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'started\n' }]);
    expect(kernel.calls).toEqual(['interrupt']);
    const after = await e.execute('print("next")');
    expect(after.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'next\n' }]);
  });

  it('rejects with the reason when the kernel connection fails mid-cell', async () => {
    const kernel: IKernelLike = {
      requestExecute: () => ({
        onIOPub: () => undefined,
        done: Promise.reject(
          new Error('Canceled future for execute_request message before replies were done')
        )
      }),
      restart: async () => undefined,
      interrupt: async () => undefined,
      shutdown: async () => undefined
    };
    await expect(executor(kernel).execute('1')).rejects.toThrow(
      'the kernel stopped while running the cell: Canceled future for execute_request'
    );
  });

  it('delegates files, restart and dispose', async () => {
    const kernel = new ScriptedKernel([]);
    const written: string[] = [];
    const e = executor(kernel, { writeFile: async p => void written.push(p) });
    await e.writeFile('outputs/model.pkl', new Uint8Array([1]));
    await e.restart();
    await e.dispose();
    expect(written).toEqual(['outputs/model.pkl']);
    expect(kernel.calls).toEqual(['restart', 'shutdown']);
    let disposed = false;
    await executor(kernel, { dispose: async () => void (disposed = true) }).dispose();
    expect(disposed).toBe(true);
    expect(kernel.calls).toEqual(['restart', 'shutdown']);
  });
});
