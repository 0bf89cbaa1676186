/**
 * `--max-memory-mb`: a local kernel that allocates past the cap gets a MemoryError in its outputs (and a receipt
 * that says so), and the kernel lives on for the next cell. Real uv environment, jupyter server and ipykernel.
 */
import { KernelManager } from '@jupyterlab/services';
import { LocalKernelBackend } from '../../src/agent/backend-local';
import { createRunRuntime, IRunRuntimeHandle } from '../../src/agent/run-runtime';
import { executeCell, leftovers, testBuilder, testRun, TestRouter, ITestRun } from './agent-kernel-fixture';

jest.setTimeout(180_000);

let run: ITestRun;
let runtime: IRunRuntimeHandle;
let router: TestRouter;
let manager: KernelManager;

beforeAll(async () => {
  run = testRun({ 'main.ipynb': '{}' });
  runtime = createRunRuntime(run.ctx, {
    backend: new LocalKernelBackend({ maxMemoryMb: 300 }),
    envBuilder: testBuilder(),
    store: run.store
  });
  await runtime.start();
  router = await new TestRouter(runtime).listen();
  manager = new KernelManager({ serverSettings: router.settings() });
});

afterAll(async () => {
  manager?.dispose();
  await router?.close();
  await runtime?.stop();
  expect(leftovers(run.dir)).toEqual([]);
  run?.cleanup();
});

it('turns an allocation past the cap into a MemoryError, receipted, and the kernel goes on', async () => {
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  const execute = async (code: string) => (await executeCell(kernel, code)).outputs;
  const small = await execute('len(bytearray(50 * 2**20))');
  expect(JSON.stringify(small)).toContain('52428800');
  const big = await execute('x = bytearray(1024 * 2**20)');
  expect(big).toEqual([expect.objectContaining({ output_type: 'error', ename: 'MemoryError' })]);
  const after = await execute('print("still alive")');
  expect(JSON.stringify(after)).toContain('still alive');
  await runtime.settled();
  expect(run.store.receipts(run.ctx.runId)).toHaveLength(3);
  await kernel.shutdown();
});
